using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Orchestrator.Silo.Telemetry;
using Orchestrator.Storage;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Silo.Training;

/// <summary>
/// Pretrained bases, once per cluster, in the artifact store under <c>bases/{hash}/</c>: the weights
/// (<see cref="BaseModelCache.ModelFile"/>, created once: of several silos that pretrained the same base, the first
/// to create it wins and its bytes are the base) and, created last, <see cref="ManifestFile"/> with their sha256 and
/// spec. A base is shared once its manifest exists. A silo without a base in its local cache downloads the shared
/// one, verified, instead of pretraining it; a silo that pretrained publishes, and if it lost the race it replaces
/// its copy with the winner's, so every trial of a hash trains from the same bytes. A silo that finds weights but no
/// manifest (the winner died between the two) completes the manifest from those weights.
/// </summary>
public sealed class SharedBaseModels(IArtifactStore store, SiloMetrics metrics, ILogger<SharedBaseModels> logger) : IBaseModelShare
{
    public const string ManifestFile = "base.json";

    /// <summary>Blocks: called on a trial's own thread, under the base cache's lock.</summary>
    public bool TryFetch(string hash, string directory, CancellationToken cancellationToken) =>
        TryFetchAsync(hash, directory, cancellationToken).GetAwaiter().GetResult();

    /// <summary>Blocks: called on a trial's own thread, under the base cache's lock.</summary>
    public void Publish(string hash, string directory, CancellationToken cancellationToken) =>
        PublishAsync(hash, directory, cancellationToken).GetAwaiter().GetResult();

    public async Task<bool> TryFetchAsync(string hash, string directory, CancellationToken cancellationToken)
    {
        if (await ReadManifestAsync(hash, cancellationToken) is not { } manifest) return false;
        await DownloadAsync(hash, manifest.ModelSha256, directory, cancellationToken);
        AtomicFile.WriteAllText(Path.Combine(directory, BaseModelCache.SpecFile), manifest.Spec);
        metrics.BaseDownloaded();
        logger.LogInformation("Base {Hash}: downloaded from the artifact store (sha256 {Sha256})", hash, manifest.ModelSha256);
        return true;
    }

    public async Task PublishAsync(string hash, string directory, CancellationToken cancellationToken)
    {
        metrics.BasePretrained();
        var local = Path.Combine(directory, BaseModelCache.ModelFile);
        try
        {
            bool created;
            await using (var content = File.OpenRead(local))
                created = await store.TryCreateAsync(ModelPath(hash), content, cancellationToken);
            string sha;
            if (created)
            {
                sha = FileHashes.Sha256(local);
            }
            else
            {
                // Another silo's copy is the base: train from it too. Verified against its manifest when there is one.
                var published = await ReadManifestAsync(hash, cancellationToken);
                sha = await DownloadAsync(hash, published?.ModelSha256, directory, cancellationToken);
            }
            var spec = await File.ReadAllTextAsync(Path.Combine(directory, BaseModelCache.SpecFile), cancellationToken);
            var manifest = JsonSerializer.SerializeToUtf8Bytes(new BaseManifest(sha, spec));
            await store.TryCreateAsync(ManifestPath(hash), new MemoryStream(manifest), cancellationToken);
            logger.LogInformation(created
                ? "Base {Hash}: pretrained here and published (sha256 {Sha256})"
                : "Base {Hash}: pretrained here, but another silo published it first; using that copy (sha256 {Sha256})", hash, sha);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            // The base is good locally: the trial trains on; another silo will publish it.
            logger.LogWarning("Base {Hash}: pretrained here, not published ({Error})", hash, e.Message.Split('\n')[0]);
        }
    }

    public static string ModelPath(string hash) => ArtifactPaths.Base(hash) + BaseModelCache.ModelFile;

    public static string ManifestPath(string hash) => ArtifactPaths.Base(hash) + ManifestFile;

    private async Task<BaseManifest?> ReadManifestAsync(string hash, CancellationToken cancellationToken)
    {
        Stream stream;
        try
        {
            stream = await store.OpenReadAsync(ManifestPath(hash), null, cancellationToken);
        }
        catch (ArtifactNotFoundException)
        {
            return null;
        }
        await using (stream)
            return await JsonSerializer.DeserializeAsync<BaseManifest>(stream, cancellationToken: cancellationToken)
                ?? throw new InvalidDataException($"{ManifestPath(hash)} is empty");
    }

    /// <summary>Replaces the local weights with the shared ones (temp + rename); returns their sha256.</summary>
    private async Task<string> DownloadAsync(string hash, string? expectedSha256, string directory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{BaseModelCache.ModelFile}.{Guid.NewGuid():N}.tmp");
        try
        {
            string sha;
            await using (var source = await store.OpenReadAsync(ModelPath(hash), expectedSha256, cancellationToken))
            await using (var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                using var hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[81920];
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    hasher.AppendData(buffer, 0, read);
                    await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
                sha = Convert.ToHexStringLower(hasher.GetHashAndReset());
            }
            if (expectedSha256 is not null && !string.Equals(sha, expectedSha256, StringComparison.OrdinalIgnoreCase))
                throw new ArtifactCorruptException(ModelPath(hash), expectedSha256, sha);
            File.Move(temp, Path.Combine(directory, BaseModelCache.ModelFile), overwrite: true);
            return sha;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private sealed record BaseManifest(
        [property: JsonPropertyName("model_sha256")] string ModelSha256,
        [property: JsonPropertyName("spec")] string Spec);
}
