using System.Runtime.CompilerServices;

namespace Orchestrator.Storage;

/// <summary>
/// Artifacts as files under one root folder (the embedded mode's store). Writes go to <c>.staging/</c> under the root
/// (same file system) and are renamed into place: <c>File.Move(overwrite: true)</c> for
/// <see cref="WriteAsync"/>, an exclusive hard link (<see cref="ExclusiveCreate"/>: of concurrent creators exactly one wins) for
/// <see cref="TryCreateAsync"/>. No sha256 is stored beside the files: it is computed on read and checked against
/// the caller's expected value (result.json carries the checksums), so <see cref="ArtifactInfo.Sha256"/> is null here.
/// </summary>
public sealed class LocalDirectoryArtifactStore : IArtifactStore
{
    /// <summary>Root-level folder for writes in progress; not listed, and not writable as an artifact.</summary>
    public const string StagingFolder = ".staging";

    public LocalDirectoryArtifactStore(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    private string Staging => Path.Combine(Root, StagingFolder);

    public async Task<string> WriteAsync(string path, Stream content, CancellationToken ct)
    {
        var target = Resolve(path);
        await using var staged = await StagedFile.CopyAsync(content, Staging, ct);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Move(staged.Path, target, overwrite: true);
        return staged.Sha256;
    }

    public async Task<bool> TryCreateAsync(string path, Stream content, CancellationToken ct)
    {
        var target = Resolve(path);
        if (File.Exists(target))
        {
            return false; // cheap early out; the exclusive create below is what decides
        }

        await using var staged = await StagedFile.CopyAsync(content, Staging, ct);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        return ExclusiveCreate.TryPublish(staged.Path, target);
    }

    public async Task<Stream> OpenReadAsync(string path, string? expectedSha256, CancellationToken ct)
    {
        var target = Resolve(path);
        FileStream stream;
        try
        {
            stream = new FileStream(target, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ArtifactNotFoundException(path, e);
        }

        if (expectedSha256 is null)
        {
            return stream;
        }

        try
        {
            var (actual, _) = await StagedFile.HashingCopyAsync(stream, destination: null, ct);
            StagedFile.CheckSha(path, expectedSha256, actual);
            stream.Position = 0;
            return stream;
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    public Task<bool> ExistsAsync(string path, CancellationToken ct) => Task.FromResult(File.Exists(Resolve(path)));

    public Task DeleteAsync(string path, CancellationToken ct)
    {
        var target = Resolve(path);
        try
        {
            File.Delete(target);
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing there: deleting is a no-op.
        }

        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct)
    {
        ArtifactPath.Prefix(prefix);
        // Walk only the deepest folder the prefix names; the rest of the prefix filters by name.
        var folder = prefix.Contains('/') ? prefix[..(prefix.LastIndexOf('/') + 1)] : "";
        var start = folder.Length == 0 ? Root : ArtifactPath.UnderFolder(Root, folder.TrimEnd('/'));
        if (!Directory.Exists(start))
        {
            yield break;
        }

        var found = Directory.EnumerateFiles(start, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .Select(file => (File: file, Path: Path.GetRelativePath(Root, file).Replace(Path.DirectorySeparatorChar, '/')))
            .Where(f => f.Path.StartsWith(prefix, StringComparison.Ordinal) && !f.Path.StartsWith(StagingFolder + "/", StringComparison.Ordinal))
            .OrderBy(f => f.Path, StringComparer.Ordinal);
        foreach (var (file, path) in found)
        {
            ct.ThrowIfCancellationRequested();
            long size;
            try
            {
                size = new FileInfo(file).Length;
            }
            catch (FileNotFoundException)
            {
                continue; // deleted while listing
            }

            yield return new ArtifactInfo(path, size, Sha256: null);
        }

        await Task.CompletedTask;
    }

    public Task<IReadOnlyDictionary<string, string>> UploadDirectoryAsync(string localDir, string prefix, CancellationToken ct) =>
        DirectoryTransfer.UploadAsync(this, localDir, prefix, ct);

    public Task DownloadDirectoryAsync(string prefix, string localDir, CancellationToken ct) =>
        DirectoryTransfer.DownloadAsync(this, prefix, localDir, ct);

    private string Resolve(string path)
    {
        ArtifactPath.Object(path);
        if (path == StagingFolder || path.StartsWith(StagingFolder + "/", StringComparison.Ordinal))
        {
            throw new InvalidArtifactNameException(path, $"'{StagingFolder}/' is reserved for writes in progress");
        }

        return ArtifactPath.UnderFolder(Root, path);
    }
}
