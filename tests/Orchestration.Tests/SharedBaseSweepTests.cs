using Orchestrator.Grains.Sweeps;
using Orchestrator.TestServers;
using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Contracts.Sweeps;
using Orchestrator.Grains;
using Orchestrator.Grains.Journal;
using Orchestrator.Silo.Hosting;
using Orchestrator.Silo.Persistence;
using Orchestrator.Silo.Telemetry;
using Orchestrator.Silo.Training;
using Orchestrator.Trainer.Training;
using Orleans.Storage;
using Orchestrator.Storage;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Orchestrator.Orchestration.Tests;

/// <summary>
/// Two silos in one process (Orleans' in-process test cluster), each with its own data directory (so its own local
/// cache of bases), sharing one Blob Storage account (a real Azurite) as pods do: a sweep whose trials run on both
/// pretrains its base once.
/// </summary>
public sealed class SharedBaseSweepTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Name = "shared-base";
    private readonly string _root = SweepCluster.NewDataDir();
    private readonly ConcurrentDictionary<string, SiloMetrics> _metrics = new();
    private InProcessTestCluster _cluster = null!;
    private AzuriteServer _azurite = null!;
    private IArtifactStore _store = null!;

    private static readonly string Grid = new MnistTestSweep(Name) { Seed = 5, Parallel = 2, MaxFailures = 0, Lr = null }.Yaml;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        _azurite = await AzuriteServer.StartAsync();
        _store = ArtifactStoreFactory.Create(_azurite.ConnectionString, "artifacts");
        var journal = new FileEventJournal(Path.Combine(_root, "state", "journal"));
        var grainStorage = new FileGrainStorage(Path.Combine(_root, "state", "grains"));
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((silo, siloBuilder) =>
        {
            var options = new SiloHostOptions
            {
                DataDir = Path.Combine(_root, silo.SiloName), Storage = _azurite.ConnectionString, Slots = 1, SiloName = silo.SiloName, HttpPort = 0,
                ShutdownTimeout = TimeSpan.FromSeconds(20),
            };
            siloBuilder.Services.AddSingleton(_metrics.GetOrAdd(silo.SiloName, _ => new SiloMetrics()));
            siloBuilder.Services.AddSingleton<IEventJournal>(journal);
            SiloConfiguration.Configure(siloBuilder, options, clustering: false);
            siloBuilder.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Orchestrator, grainStorage);
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        try { await _cluster.StopAllSilosAsync(); } catch (Exception) { /* best effort */ }
        await _cluster.DisposeAsync();
        await _azurite.DisposeAsync();
        SweepCluster.TryDelete(_root);
    }

    [Fact]
    public async Task A_sweep_whose_trials_run_on_two_in_process_silos_pretrains_its_base_once_and_both_train_from_the_same_bytes()
    {
        // Both silos' slots must be asking for work before the sweep starts, or a slow-starting silo (a busy machine)
        // may find every trial taken: with one slot each and two trials at a time, both then train.
        await WaitForWorkersAsync(2);
        var sweep = _cluster.Client.GetGrain<ISweepGrain>(Name);
        var submitted = await sweep.SubmitAsync(Grid, $"{Name}.yaml");
        Assert.True(submitted.Accepted, submitted.Message);

        // Real training on shared cores: the wait fails only after 60 s without any trial changing.
        var status = await SweepCluster.WaitUntilAsync(sweep, s => s.IsTerminal, TimeSpan.FromSeconds(60));
        var trials = await sweep.GetTrialsAsync();
        foreach (var t in trials) output.WriteLine($"{t.TrialId} {t.State} attempts {t.Attempts} {t.Error}");
        Assert.Equal(SweepState.Finished, status.State);
        Assert.Equal(4, status.Succeeded);
        var silos = _metrics.Where(m => m.Value.TrialsFinished > 0).Select(m => m.Key).ToList();
        Assert.Equal(2, silos.Count);

        var pretrained = _metrics.Values.Sum(m => m.BasesPretrained);
        var downloaded = _metrics.Values.Sum(m => m.BasesDownloaded);
        output.WriteLine($"trials finished: {string.Join(", ", _metrics.Select(m => $"{m.Key} {m.Value.TrialsFinished}"))}; bases pretrained {pretrained}, downloaded {downloaded}");
        Assert.Equal(1, pretrained);
        Assert.Equal(1, downloaded);

        // One base in Blob Storage, and each silo's local copy is those bytes.
        var published = new List<ArtifactInfo>();
        await foreach (var blob in _store.ListAsync("bases/", CancellationToken.None)) published.Add(blob);
        var model = Assert.Single(published, b => b.Path.EndsWith("/" + BaseModelCache.ModelFile, StringComparison.Ordinal));
        var hash = model.Path.Split('/')[1];
        Assert.Equal(SharedBaseModels.ModelPath(hash), model.Path);
        string sha;
        await using (var stream = await _store.OpenReadAsync(model.Path, null, CancellationToken.None))
            sha = Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(stream));
        await using (var manifest = await _store.OpenReadAsync(SharedBaseModels.ManifestPath(hash), null, CancellationToken.None))
            Assert.Contains(sha, await new StreamReader(manifest).ReadToEndAsync());
        foreach (var silo in silos)
            Assert.Equal(sha, FileHashes.Sha256(Path.Combine(_root, silo, "bases", hash, BaseModelCache.ModelFile)));
    }

    private async Task WaitForWorkersAsync(int count)
    {
        var scheduler = _cluster.Client.GetGrain<ISchedulerGrain>(0);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        IReadOnlyList<string> workers;
        while ((workers = await scheduler.GetWorkerIdsAsync()).Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {workers.Count} of {count} worker slots asked the scheduler for work: {string.Join(", ", workers)}");
            await Task.Delay(100);
        }
    }
}
