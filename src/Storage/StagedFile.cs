using System.Security.Cryptography;

namespace Orchestrator.Storage;

/// <summary>
/// Content copied to a temp file while it is hashed: the sha256 is known before the object is written, and a retry
/// can read the same bytes again. Deleted on dispose unless it was moved into place.
/// </summary>
internal sealed class StagedFile : IAsyncDisposable
{
    private StagedFile(string path, string sha256, long length)
    {
        Path = path;
        Sha256 = sha256;
        Length = length;
    }

    public string Path { get; }

    public string Sha256 { get; }

    public long Length { get; }

    public static async Task<StagedFile> CopyAsync(Stream content, string directory, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(content);
        Directory.CreateDirectory(directory);
        var path = System.IO.Path.Combine(directory, $"{Guid.NewGuid():N}.partial");
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous);
            var (sha, length) = await HashingCopyAsync(content, file, ct);
            await file.FlushAsync(ct);
            file.Flush(flushToDisk: true);
            return new StagedFile(path, sha, length);
        }
        catch
        {
            TryDelete(path);
            throw;
        }
    }

    public FileStream OpenRead() =>
        new(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous);

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/>; returns the sha256 and byte count.</summary>
    public static async Task<(string Sha256, long Length)> HashingCopyAsync(Stream source, Stream? destination, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        long length = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, ct)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            if (destination is not null)
            {
                await destination.WriteAsync(buffer.AsMemory(0, read), ct);
            }

            length += read;
        }

        return (Convert.ToHexStringLower(hash.GetHashAndReset()), length);
    }

    public static void CheckSha(string path, string? expected, string actual)
    {
        if (expected is not null && !string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArtifactCorruptException(path, expected.ToLowerInvariant(), actual);
        }
    }

    public ValueTask DisposeAsync()
    {
        TryDelete(Path);
        return ValueTask.CompletedTask;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
