using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Orchestrator.Silo.Telemetry;
using Orchestrator.Storage;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Silo.Training;

/// <summary>Knobs of <see cref="SharedBaseModels"/>; tests shrink them.</summary>
public sealed record SharedBaseModelsOptions
{
    /// <summary>How often a silo waiting for another's pretraining looks for the result.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the silo pretraining a base renews its claim.</summary>
    public TimeSpan ClaimRenewal { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A claim not renewed for this long is a dead silo's: another silo takes the pretraining over.</summary>
    public TimeSpan ClaimExpiry { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// Pretrained bases, once per cluster, in the artifact store under <c>bases/{hash}/</c>: the weights
/// (<see cref="BaseModelCache.ModelFile"/>) and, created last, <see cref="ManifestFile"/> with their sha256 and spec;
/// a base is shared once its manifest exists. A silo without a base in its local cache downloads the shared one,
/// verified. If there is none, it claims the pretraining (<see cref="ClaimFile"/>, created once and renewed while
/// it trains); the other silos wait for its manifest rather than pretrain too, and take over a claim left to
/// expire by a silo that died. Publishing is exactly-once as well: the weights are created once (first writer
/// wins) and a silo that lost that race replaces its copy with the winner's, so every trial of a hash trains from
/// the same bytes. A silo that finds weights but no manifest (the winner died between the two) completes the
/// manifest from those weights.
/// </summary>
public sealed class SharedBaseModels(IArtifactStore store, SiloMetrics metrics, ILogger<SharedBaseModels> logger,
    SharedBaseModelsOptions? options = null) : IBaseModelShare
{
    public const string ManifestFile = "base.json";
    public const string ClaimFile = "pretraining.json";

    private readonly SharedBaseModelsOptions _options = options ?? new SharedBaseModelsOptions();

    /// <summary>Blocks: called on a trial's own thread, under the base cache's lock.</summary>
    public void Provide(string hash, string directory, Action pretrain, CancellationToken cancellationToken) =>
        ProvideAsync(hash, directory, pretrain, cancellationToken).GetAwaiter().GetResult();

    public async Task ProvideAsync(string hash, string directory, Action pretrain, CancellationToken cancellationToken)
    {
        var waited = false;
        while (true)
        {
            if (await TryFetchAsync(hash, directory, cancellationToken)) return;
            var claim = new BaseClaim(Environment.MachineName, Environment.ProcessId, Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow);
            if (await store.TryCreateAsync(ClaimPath(hash), Json(claim), cancellationToken))
            {
                await PretrainAndPublishAsync(hash, directory, pretrain, claim, cancellationToken);
                return;
            }
            if (!waited)
            {
                logger.LogInformation("Base {Hash}: another silo is pretraining it; waiting for its copy", hash);
                waited = true;
            }
            await Task.Delay(_options.PollInterval, cancellationToken);
            await RemoveIfExpiredAsync(hash, cancellationToken);
        }
    }

    public async Task<bool> TryFetchAsync(string hash, string directory, CancellationToken cancellationToken)
    {
        if (await ReadAsync<BaseManifest>(ManifestPath(hash), cancellationToken) is not { } manifest) return false;
        await DownloadAsync(hash, manifest.ModelSha256, directory, cancellationToken);
        AtomicFile.WriteAllText(Path.Combine(directory, BaseModelCache.SpecFile), manifest.Spec);
        metrics.BaseDownloaded();
        logger.LogInformation("Base {Hash}: downloaded from the artifact store (sha256 {Sha256})", hash, manifest.ModelSha256);
        return true;
    }

    private async Task PretrainAndPublishAsync(string hash, string directory, Action pretrain, BaseClaim claim, CancellationToken cancellationToken)
    {
        using var stopRenewing = new CancellationTokenSource();
        var renewing = RenewAsync(hash, claim, stopRenewing.Token);
        try
        {
            // The silo that held the claim before may have published between our look and our claim.
            if (await TryFetchAsync(hash, directory, cancellationToken)) return;
            pretrain();
            await PublishAsync(hash, directory, cancellationToken);
        }
        finally
        {
            await stopRenewing.CancelAsync();
            await renewing;
            // Published or failed, the claim goes: waiters then download the base, or one of them pretrains it.
            try { await store.DeleteAsync(ClaimPath(hash), CancellationToken.None); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                logger.LogWarning("Base {Hash}: claim not removed ({Error}); it expires in {Expiry} s", hash, e.Message, _options.ClaimExpiry.TotalSeconds);
            }
        }
    }

    private async Task RenewAsync(string hash, BaseClaim claim, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_options.ClaimRenewal, cancellationToken);
                try { await store.WriteAsync(ClaimPath(hash), Json(claim with { RenewedAt = DateTimeOffset.UtcNow }), cancellationToken); }
                catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                {
                    logger.LogWarning("Base {Hash}: claim not renewed ({Error})", hash, e.Message.Split('\n')[0]);
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task RemoveIfExpiredAsync(string hash, CancellationToken cancellationToken)
    {
        if (await ReadAsync<BaseClaim>(ClaimPath(hash), cancellationToken) is not { } claim) return;
        if (DateTimeOffset.UtcNow - claim.RenewedAt < _options.ClaimExpiry) return;
        logger.LogWarning("Base {Hash}: the pretraining claim of {Host} pid {Pid} expired; taking it over", hash, claim.Host, claim.ProcessId);
        await store.DeleteAsync(ClaimPath(hash), cancellationToken);
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
                var published = await ReadAsync<BaseManifest>(ManifestPath(hash), cancellationToken);
                sha = await DownloadAsync(hash, published?.ModelSha256, directory, cancellationToken);
            }
            var spec = await File.ReadAllTextAsync(Path.Combine(directory, BaseModelCache.SpecFile), cancellationToken);
            await store.TryCreateAsync(ManifestPath(hash), Json(new BaseManifest(sha, spec)), cancellationToken);
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

    public static string ClaimPath(string hash) => ArtifactPaths.Base(hash) + ClaimFile;

    private static MemoryStream Json<T>(T value) => new(JsonSerializer.SerializeToUtf8Bytes(value));

    private async Task<T?> ReadAsync<T>(string path, CancellationToken cancellationToken) where T : class
    {
        Stream stream;
        try
        {
            stream = await store.OpenReadAsync(path, null, cancellationToken);
        }
        catch (ArtifactNotFoundException)
        {
            return null;
        }
        await using (stream)
            return await JsonSerializer.DeserializeAsync<T>(stream, cancellationToken: cancellationToken)
                ?? throw new InvalidDataException($"{path} is empty");
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

    private sealed record BaseClaim(
        [property: JsonPropertyName("host")] string Host,
        [property: JsonPropertyName("pid")] int ProcessId,
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("renewed_at")] DateTimeOffset RenewedAt);

    private sealed record BaseManifest(
        [property: JsonPropertyName("model_sha256")] string ModelSha256,
        [property: JsonPropertyName("spec")] string Spec);
}
