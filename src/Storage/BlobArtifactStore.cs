using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Orchestrator.Storage;

/// <summary>
/// Artifacts as block blobs in one container (created when missing). The sha256 of each blob is stored in its
/// metadata (<see cref="Sha256MetadataKey"/>) in the same request that writes the content, so the object appears
/// with its checksum atomically; every read verifies against it. <see cref="TryCreateAsync"/> is a conditional
/// write (If-None-Match: *). Every service call goes through <see cref="StorageResilience"/>.
/// </summary>
public sealed class BlobArtifactStore : IArtifactStore
{
    public const string Sha256MetadataKey = "sha256";

    /// <summary>Set by <see cref="TryCreateAsync"/>: which call created the blob.</summary>
    public const string WriterMetadataKey = "writer";

    private readonly BlobContainerClient _container;
    private readonly StorageResilience _resilience;
    private volatile bool _containerExists;

    public BlobArtifactStore(string connectionString, string containerName, StorageResilience? resilience = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentException.ThrowIfNullOrWhiteSpace(containerName);
        _resilience = resilience ?? new StorageResilience();
        var options = new BlobClientOptions();
        _resilience.ConfigureClient(options);
        _container = new BlobContainerClient(connectionString, containerName, options);
    }

    public string ContainerName => _container.Name;

    public StorageResilience Resilience => _resilience;

    public async Task<string> WriteAsync(string path, Stream content, CancellationToken ct)
    {
        var blob = Blob(path);
        await using var staged = await StagedFile.CopyAsync(content, Path.GetTempPath(), ct);
        await EnsureContainerAsync(ct);
        await _resilience.ExecuteAsync(async token =>
        {
            await using var source = staged.OpenRead();
            await blob.UploadAsync(source, new BlobUploadOptions { Metadata = Metadata(staged.Sha256) }, token);
        }, ct);
        return staged.Sha256;
    }

    public async Task<bool> TryCreateAsync(string path, Stream content, CancellationToken ct)
    {
        var blob = Blob(path);
        await using var staged = await StagedFile.CopyAsync(content, Path.GetTempPath(), ct);
        await EnsureContainerAsync(ct);
        // A unique writer id in the metadata tells, after a retry, whether the blob that is there is this call's own
        // earlier attempt (its response lost on the way back) or another writer's.
        var writer = Guid.NewGuid().ToString("N");
        var attempts = 0;
        return await _resilience.ExecuteAsync(async token =>
        {
            attempts++;
            try
            {
                await using var source = staged.OpenRead();
                var metadata = Metadata(staged.Sha256);
                metadata[WriterMetadataKey] = writer;
                await blob.UploadAsync(source, new BlobUploadOptions
                {
                    Metadata = metadata,
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                }, token);
                return true;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                if (attempts == 1)
                {
                    return false;
                }

                var existing = await blob.GetPropertiesAsync(cancellationToken: token);
                return existing.Value.Metadata.TryGetValue(WriterMetadataKey, out var owner) && owner == writer;
            }
        }, ct);
    }

    public async Task<Stream> OpenReadAsync(string path, string? expectedSha256, CancellationToken ct)
    {
        var blob = Blob(path);
        var tempPath = Path.Combine(Path.GetTempPath(), $"{Guid.NewGuid():N}.download");
        var file = new FileStream(tempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        try
        {
            var (actual, recorded) = await _resilience.ExecuteAsync(async token =>
            {
                file.SetLength(0);
                try
                {
                    var download = await blob.DownloadStreamingAsync(cancellationToken: token);
                    await using var body = download.Value.Content;
                    var (sha, _) = await StagedFile.HashingCopyAsync(body, file, token);
                    download.Value.Details.Metadata.TryGetValue(Sha256MetadataKey, out var stored);
                    return (sha, stored);
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                    throw new ArtifactNotFoundException(path, e);
                }
            }, ct);
            StagedFile.CheckSha(path, recorded, actual);
            StagedFile.CheckSha(path, expectedSha256, actual);
            await file.FlushAsync(ct);
            file.Position = 0;
            return file;
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    public async Task<bool> ExistsAsync(string path, CancellationToken ct)
    {
        var blob = Blob(path);
        return await _resilience.ExecuteAsync(async token => (await blob.ExistsAsync(token)).Value, ct);
    }

    public async Task DeleteAsync(string path, CancellationToken ct)
    {
        var blob = Blob(path);
        await _resilience.ExecuteAsync(async token => { await blob.DeleteIfExistsAsync(cancellationToken: token); }, ct);
    }

    public async IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct)
    {
        ArtifactPath.Prefix(prefix);
        if (!await _resilience.ExecuteAsync(async token => (await _container.ExistsAsync(token)).Value, ct))
        {
            yield break;
        }

        // One page per pipeline call: a fault mid-listing retries that page, not the whole listing.
        string? continuation = null;
        do
        {
            var token = continuation;
            var page = await _resilience.ExecuteAsync(async t =>
            {
                var pages = _container
                    .GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata, Prefix = prefix.Length == 0 ? null : prefix }, t)
                    .AsPages(token, pageSizeHint: 1000);
                await foreach (var p in pages)
                {
                    return p;
                }

                return null;
            }, ct);
            if (page is null)
            {
                yield break;
            }

            foreach (var item in page.Values)
            {
                item.Metadata.TryGetValue(Sha256MetadataKey, out var sha);
                yield return new ArtifactInfo(item.Name, item.Properties.ContentLength ?? 0, sha);
            }

            continuation = page.ContinuationToken;
        }
        while (!string.IsNullOrEmpty(continuation));
    }

    public Task<IReadOnlyDictionary<string, string>> UploadDirectoryAsync(string localDir, string prefix, CancellationToken ct) =>
        DirectoryTransfer.UploadAsync(this, localDir, prefix, ct);

    public Task DownloadDirectoryAsync(string prefix, string localDir, CancellationToken ct) =>
        DirectoryTransfer.DownloadAsync(this, prefix, localDir, ct);

    private BlobClient Blob(string path) => _container.GetBlobClient(ArtifactPath.Object(path));

    private static Dictionary<string, string> Metadata(string sha256) => new() { [Sha256MetadataKey] = sha256 };

    private async Task EnsureContainerAsync(CancellationToken ct)
    {
        if (_containerExists)
        {
            return;
        }

        await _resilience.ExecuteAsync(async token => { await _container.CreateIfNotExistsAsync(cancellationToken: token); }, ct);
        _containerExists = true;
    }
}
