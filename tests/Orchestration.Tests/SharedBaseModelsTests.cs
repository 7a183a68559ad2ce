using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Silo.Telemetry;
using Orchestrator.Silo.Training;
using Orchestrator.Storage;
using Orchestrator.TestServers;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Orchestration.Tests;

/// <summary>
/// Pretrained bases shared through the artifact store, on both kinds of store (a local directory, Azure Blob in
/// Azurite): silos racing to publish end with one published copy and all train from it; downloads are verified.
/// </summary>
public sealed class SharedBaseModelsTests : IAsyncLifetime
{
    private const string Hash = "0123456789abcdef";
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"shared-bases-{Guid.NewGuid():N}");
    private AzuriteServer? _azurite;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_azurite is not null) await _azurite.DisposeAsync();
        TempFolder.TryDelete(_root);
    }

    private async Task<IArtifactStore> StoreAsync(string kind)
    {
        if (kind == "directory") return ArtifactStoreFactory.Create(Path.Combine(_root, "artifacts"));
        _azurite ??= await AzuriteServer.StartAsync();
        return ArtifactStoreFactory.Create(_azurite.ConnectionString, "artifacts");
    }

    private static readonly SharedBaseModelsOptions Fast = new() { PollInterval = TimeSpan.FromMilliseconds(50), ClaimRenewal = TimeSpan.FromMilliseconds(100) };

    private static SharedBaseModels Silo(IArtifactStore store, SiloMetrics metrics, SharedBaseModelsOptions? options = null,
        Microsoft.Extensions.Logging.ILogger<SharedBaseModels>? logger = null) =>
        new(store, metrics, logger ?? NullLogger<SharedBaseModels>.Instance, options ?? Fast);

    private string Cache(string silo) => Path.Combine(_root, silo, "bases", Hash);

    /// <summary>What pretraining leaves in a local cache folder: the weights and the spec.</summary>
    private static void WriteBase(string folder, string weights)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, BaseModelCache.ModelFile), weights);
        File.WriteAllText(Path.Combine(folder, BaseModelCache.SpecFile), """{"model":"mlp"}""");
    }

    private string Pretrained(string silo, string weights)
    {
        WriteBase(Cache(silo), weights);
        return Cache(silo);
    }

    [Fact]
    public async Task While_one_silo_pretrains_a_base_another_waits_for_its_copy_instead_of_pretraining_too()
    {
        var store = await StoreAsync("directory");
        using var metricsA = new SiloMetrics();
        using var metricsB = new SiloMetrics();
        var started = new TaskCompletionSource();
        using var mayFinish = new ManualResetEventSlim();
        var bPretrained = false;
        var bLog = new RecordingLogger<SharedBaseModels>();

        var first = Task.Run(() => Silo(store, metricsA).Provide(Hash, Cache("a"), () =>
        {
            started.SetResult();
            mayFinish.Wait(TimeSpan.FromSeconds(30));
            WriteBase(Cache("a"), "weights of a");
        }, CancellationToken.None));
        await started.Task;
        var second = Task.Run(() => Silo(store, metricsB, logger: bLog).Provide(Hash, Cache("b"), () =>
        {
            bPretrained = true;
            WriteBase(Cache("b"), "weights of b");
        }, CancellationToken.None));
        // b found a's claim and backs off (it says so once, when it starts waiting), then keeps waiting through two
        // renewals of that claim (each one a few of b's 50 ms polls): b neither pretrains nor gives up meanwhile.
        await bLog.WhenLoggedAsync("another silo is pretraining it; waiting for its copy", TimeSpan.FromSeconds(30));
        var claim = await ReadAsync(store, SharedBaseModels.ClaimPath(Hash));
        for (var renewals = 0; renewals < 2; renewals++)
            claim = await ChangedAsync(store, SharedBaseModels.ClaimPath(Hash), claim, TimeSpan.FromSeconds(30));
        Assert.False(second.IsCompleted, $"b finished while a still held the claim; b logged: {string.Join(" | ", bLog.Lines)}");
        Assert.False(bPretrained);
        mayFinish.Set();
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(bPretrained);
        Assert.Equal("weights of a", File.ReadAllText(Path.Combine(Cache("b"), BaseModelCache.ModelFile)));
        Assert.Equal((1, 0, 0, 1), (metricsA.BasesPretrained, metricsA.BasesDownloaded, metricsB.BasesPretrained, metricsB.BasesDownloaded));
        Assert.False(await store.ExistsAsync(SharedBaseModels.ClaimPath(Hash), CancellationToken.None));
    }

    [Fact]
    public async Task A_pretraining_claim_left_by_a_silo_that_died_is_taken_over_once_it_expires()
    {
        var store = await StoreAsync("directory");
        var renewedAt = DateTimeOffset.UtcNow;
        await store.TryCreateAsync(SharedBaseModels.ClaimPath(Hash),
            new MemoryStream(Encoding.UTF8.GetBytes($$"""{"host":"gone","pid":1,"id":"x","renewed_at":"{{renewedAt:O}}"}""")), CancellationToken.None);
        using var metrics = new SiloMetrics();
        var expiry = TimeSpan.FromMilliseconds(400);

        await Silo(store, metrics, Fast with { ClaimExpiry = expiry }).ProvideAsync(Hash, Cache("b"), () => WriteBase(Cache("b"), "weights of b"),
            CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(DateTimeOffset.UtcNow - renewedAt >= expiry);
        Assert.Equal(1, metrics.BasesPretrained);
        Assert.Equal("weights of b", await ReadAsync(store, SharedBaseModels.ModelPath(Hash)));
        Assert.False(await store.ExistsAsync(SharedBaseModels.ClaimPath(Hash), CancellationToken.None));
    }

    /// <summary>The content of <paramref name="path"/> once it differs from <paramref name="previous"/>.</summary>
    private static async Task<string> ChangedAsync(IArtifactStore store, string path, string previous, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            var now = await ReadAsync(store, path);
            if (now != previous) return now;
            await Task.Delay(20, deadline.Token);
        }
    }

    private static async Task<string> ReadAsync(IArtifactStore store, string path)
    {
        await using var stream = await store.OpenReadAsync(path, null, CancellationToken.None);
        return await new StreamReader(stream, Encoding.UTF8).ReadToEndAsync();
    }

    [Theory]
    [InlineData("directory")]
    [InlineData("blob")]
    public async Task Two_silos_that_both_pretrained_a_base_end_with_the_one_published_copy_and_a_third_downloads_it(string kind)
    {
        var store = await StoreAsync(kind);
        var a = Pretrained("a", new string('a', 300_000));
        var b = Pretrained("b", new string('b', 300_000));
        using var metricsA = new SiloMetrics();
        using var metricsB = new SiloMetrics();

        await Task.WhenAll(
            Task.Run(() => Silo(store, metricsA).PublishAsync(Hash, a, CancellationToken.None)),
            Task.Run(() => Silo(store, metricsB).PublishAsync(Hash, b, CancellationToken.None)));

        var published = await ReadAsync(store, SharedBaseModels.ModelPath(Hash));
        Assert.True(published[0] is 'a' or 'b');
        Assert.Equal(published, File.ReadAllText(Path.Combine(a, BaseModelCache.ModelFile)));
        Assert.Equal(published, File.ReadAllText(Path.Combine(b, BaseModelCache.ModelFile)));
        Assert.Contains(FileHashes.Sha256(Path.Combine(a, BaseModelCache.ModelFile)), await ReadAsync(store, SharedBaseModels.ManifestPath(Hash)));
        Assert.Equal(2, metricsA.BasesPretrained + metricsB.BasesPretrained);

        using var metricsC = new SiloMetrics();
        var c = Path.Combine(_root, "c", "bases", Hash);
        Assert.True(await Silo(store, metricsC).TryFetchAsync(Hash, c, CancellationToken.None));
        Assert.Equal(published, File.ReadAllText(Path.Combine(c, BaseModelCache.ModelFile)));
        Assert.Equal("""{"model":"mlp"}""", File.ReadAllText(Path.Combine(c, BaseModelCache.SpecFile)));
        Assert.Equal(1, metricsC.BasesDownloaded);
        Assert.False(await Silo(store, metricsC).TryFetchAsync("fedcba9876543210", Path.Combine(_root, "c", "bases", "other"), CancellationToken.None));
    }

    [Theory]
    [InlineData("directory")]
    [InlineData("blob")]
    public async Task Weights_that_no_longer_match_their_manifest_are_refused_and_leave_the_local_cache_empty(string kind)
    {
        var store = await StoreAsync(kind);
        using var metrics = new SiloMetrics();
        await Silo(store, metrics).PublishAsync(Hash, Pretrained("a", "good weights"), CancellationToken.None);
        await store.WriteAsync(SharedBaseModels.ModelPath(Hash), new MemoryStream("tampered"u8.ToArray()), CancellationToken.None);

        var c = Path.Combine(_root, "c", "bases", Hash);
        await Assert.ThrowsAsync<ArtifactCorruptException>(() => Silo(store, metrics).TryFetchAsync(Hash, c, CancellationToken.None));
        Assert.False(File.Exists(Path.Combine(c, BaseModelCache.ModelFile)));
        Assert.Equal(0, metrics.BasesDownloaded);
    }

    [Fact]
    public async Task Weights_left_without_a_manifest_by_a_silo_that_died_are_completed_by_the_next_one_and_used_by_it()
    {
        var store = await StoreAsync("directory");
        await store.TryCreateAsync(SharedBaseModels.ModelPath(Hash), new MemoryStream("first weights"u8.ToArray()), CancellationToken.None);
        using var metrics = new SiloMetrics();
        var probe = Path.Combine(_root, "probe", "bases", Hash);
        Assert.False(await Silo(store, metrics).TryFetchAsync(Hash, probe, CancellationToken.None)); // not shared until its manifest exists

        var b = Pretrained("b", "second weights");
        await Silo(store, metrics).PublishAsync(Hash, b, CancellationToken.None);

        Assert.Equal("first weights", File.ReadAllText(Path.Combine(b, BaseModelCache.ModelFile)));
        Assert.True(await Silo(store, metrics).TryFetchAsync(Hash, probe, CancellationToken.None));
        Assert.Equal("first weights", File.ReadAllText(Path.Combine(probe, BaseModelCache.ModelFile)));
    }
}
