namespace Orchestrator.Storage;

/// <summary>
/// Where sweeps keep their artifacts (layout: <see cref="ArtifactPaths"/>). Paths are relative and '/'-separated;
/// every method rejects one that could leave the store (<see cref="ArtifactPath"/>) with
/// <see cref="InvalidArtifactNameException"/>. Writes are atomic: a reader sees the old object or the new one, never
/// a part. Every write returns the sha256 (lower-case hex) of what it stored.
/// </summary>
public interface IArtifactStore
{
    /// <summary>Writes (or overwrites) <paramref name="path"/> atomically; returns the content's sha256.</summary>
    Task<string> WriteAsync(string path, Stream content, CancellationToken ct);

    /// <summary>
    /// Creates <paramref name="path"/> only if nothing is there yet: of several concurrent writers exactly one gets
    /// true and its content is what stays.
    /// </summary>
    Task<bool> TryCreateAsync(string path, Stream content, CancellationToken ct);

    /// <summary>
    /// Opens the object for reading. With <paramref name="expectedSha256"/> the content is verified before the
    /// stream is returned (<see cref="ArtifactCorruptException"/> on mismatch); stores that record a sha256 at write
    /// time also verify against it. Missing: <see cref="ArtifactNotFoundException"/>.
    /// </summary>
    Task<Stream> OpenReadAsync(string path, string? expectedSha256, CancellationToken ct);

    Task<bool> ExistsAsync(string path, CancellationToken ct);

    /// <summary>Deletes the object; nothing happens when it does not exist.</summary>
    Task DeleteAsync(string path, CancellationToken ct);

    /// <summary>Objects whose path starts with <paramref name="prefix"/> ("" for all), in ordinal order of path.</summary>
    IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, CancellationToken ct);

    /// <summary>
    /// Writes every file under <paramref name="localDir"/> to <paramref name="prefix"/>/relative path (symbolic links
    /// are skipped); returns path → sha256.
    /// </summary>
    Task<IReadOnlyDictionary<string, string>> UploadDirectoryAsync(string localDir, string prefix, CancellationToken ct);

    /// <summary>
    /// Copies every object under the folder <paramref name="prefix"/> into <paramref name="localDir"/>, verifying
    /// recorded checksums. Never writes outside <paramref name="localDir"/>.
    /// </summary>
    Task DownloadDirectoryAsync(string prefix, string localDir, CancellationToken ct);
}
