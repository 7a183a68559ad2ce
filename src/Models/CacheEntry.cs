using System.Diagnostics;

namespace Orchestrator.Models;

/// <summary>
/// One folder in the cache, built once: readers see either nothing or the complete folder with its manifest.
/// The builder writes into a temporary sibling folder, writes the manifest last, then renames the folder into place,
/// all under an exclusive lock file, so two processes that build the same entry at once both end with the same folder.
/// </summary>
public static class CacheEntry
{
    /// <summary>How long a second process waits for the first one's build before giving up.</summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Returns the folder, building it with <paramref name="build"/> (which fills the folder it is given and returns the
    /// file list's source description) when it is missing or fails verification. <c>Built</c> is false when a verified
    /// folder was already there.
    /// </summary>
    public static (FolderManifest Manifest, bool Built) GetOrBuild(
        string folder, Func<string, IReadOnlyDictionary<string, string>> build, CancellationToken cancellationToken = default)
    {
        folder = Path.GetFullPath(folder);
        if (FolderManifest.TryVerify(folder, out var existing)) return (existing!, false);

        var parent = Path.GetDirectoryName(folder)!;
        Directory.CreateDirectory(parent);
        using var _ = AcquireLock(Path.Combine(parent, $".{Path.GetFileName(folder)}.lock"), cancellationToken);
        // Another process may have finished while this one waited for the lock.
        if (FolderManifest.TryVerify(folder, out existing)) return (existing!, false);

        var temp = Path.Combine(parent, $".{Path.GetFileName(folder)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        try
        {
            var source = build(temp);
            var manifest = FolderManifest.Write(temp, source);
            if (Directory.Exists(folder))
            {
                // Incomplete or altered: move it out of the way first so the rename below is atomic.
                var stale = Path.Combine(parent, $".{Path.GetFileName(folder)}.{Guid.NewGuid():N}.stale");
                Directory.Move(folder, stale);
                Directory.Delete(stale, recursive: true);
            }
            Directory.Move(temp, folder);
            return (manifest, true);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    private static FileStream AcquireLock(string path, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                // FileShare.None takes an exclusive advisory lock (flock) that other processes and other handles see.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (clock.Elapsed < LockTimeout)
            {
                // Held by another builder: waiting is the point of the lock, not a retried fault.
                Thread.Sleep(200);
            }
        }
    }
}
