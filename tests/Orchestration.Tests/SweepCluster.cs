using Orchestrator.Grains.Sweeps;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Contracts.Leaderboards;
using Orchestrator.Contracts.Sweeps;
using Orchestrator.Grains;
using Orchestrator.Grains.Journal;
using Orchestrator.Grains.Scheduling;
using Orchestrator.Silo.Hosting;
using Orchestrator.Silo.Persistence;
using Orchestrator.TestServers;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Orchestrator.Orchestration.Tests;

/// <summary>
/// An <see cref="InProcessTestCluster"/> whose silos are configured exactly as users' are, through
/// <see cref="SiloConfiguration.Configure"/>, training real (tiny) trials with TorchSharp. The silos share one data
/// directory. Embedded mode lets one process own a data directory, so the silos here also share one journal and
/// one grain-storage instance (as cluster silos share Redis); each silo has its own name and worker slots.
/// </summary>
public sealed class SweepCluster : IAsyncDisposable
{
    private SweepCluster(InProcessTestCluster cluster, string dataDir)
    {
        Cluster = cluster;
        DataDir = dataDir;
    }

    public InProcessTestCluster Cluster { get; }
    public string DataDir { get; }
    public IClusterClient Client => Cluster.Client;
    public string ArtifactsDir => Path.Combine(DataDir, "artifacts");

    public static string NewDataDir() => Path.Combine(Path.GetTempPath(), $"orchestration-tests-{Guid.NewGuid():N}");

    public static async Task<SweepCluster> StartAsync(short silos, string dataDir, int slotsPerSilo = 1)
    {
        Directory.CreateDirectory(dataDir);
        var state = Path.Combine(dataDir, "state");
        var journal = new FileEventJournal(Path.Combine(state, "journal"));
        var grainStorage = new FileGrainStorage(Path.Combine(state, "grains"));
        var builder = new InProcessTestClusterBuilder(silos);
        builder.ConfigureSilo((silo, siloBuilder) =>
        {
            var options = new SiloHostOptions { DataDir = dataDir, Slots = slotsPerSilo, SiloName = silo.SiloName, HttpPort = 0,
                ShutdownTimeout = TimeSpan.FromSeconds(20) };
            siloBuilder.Services.AddSingleton<IEventJournal>(journal);
            SiloConfiguration.Configure(siloBuilder, options, clustering: false);
            siloBuilder.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Orchestrator, grainStorage); // the last keyed registration wins
            siloBuilder.Services.Configure<HeartbeatOptions>(o =>
            {
                o.HeartbeatTimeout = TimeSpan.FromSeconds(3);
                o.HeartbeatCheckInterval = TimeSpan.FromMilliseconds(500);
            });
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new SweepCluster(cluster, dataDir);
    }

    public ISweepGrain Sweep(string name) => Client.GetGrain<ISweepGrain>(name);

    public async Task<SubmitResult> SubmitAsync(string name, string yaml)
    {
        var result = await Sweep(name).SubmitAsync(yaml, $"{name}.yaml");
        Assert.True(result.Accepted, result.Message);
        return result;
    }

    /// <summary>Waits until <paramref name="condition"/> holds, failing only after <paramref name="stall"/> without a trial
    /// changing (<see cref="ProgressWait"/>).</summary>
    public Task<SweepStatus> WaitUntilAsync(string name, Func<SweepStatus, bool> condition, TimeSpan stall) =>
        WaitUntilAsync(Sweep(name), condition, stall);

    /// <summary>The same wait on any cluster's sweep grain (the fingerprint of progress: each trial's state, attempt, step, worker).</summary>
    public static Task<SweepStatus> WaitUntilAsync(ISweepGrain sweep, Func<SweepStatus, bool> condition, TimeSpan stall) =>
        ProgressWait.UntilAsync<SweepStatus>(async () =>
        {
            var status = await sweep.GetStatusAsync();
            var trials = await sweep.GetTrialsAsync();
            return new(status, string.Join('\n', trials.Select(t => $"{t.TrialId} {t.State} attempts {t.Attempts} step {t.Step} {t.Worker} {t.Error}")));
        }, condition, $"sweep {sweep.GetPrimaryKeyString()}", stall, async () => (await sweep.GetStatusAsync()).ToString(), TimeSpan.FromMilliseconds(200));

    public Task<SweepStatus> WaitUntilFinishedAsync(string name, TimeSpan stall) => WaitUntilAsync(name, s => s.IsTerminal, stall);

    public Task<IReadOnlyList<LeaderboardEntry>> SweepLeaderboardAsync(string name) =>
        Client.GetGrain<ILeaderboardGrain>(ILeaderboardGrain.SweepKey(name)).GetAsync(0);

    public Task<IReadOnlyList<LeaderboardEntry>> GlobalLeaderboardAsync(string model, string dataset, string metric) =>
        Client.GetGrain<ILeaderboardGrain>(ILeaderboardGrain.GlobalKey(model, dataset, metric)).GetAsync(0);

    public async ValueTask DisposeAsync()
    {
        try { await Cluster.StopAllSilosAsync(); } catch (Exception) { /* a killed silo may refuse a second stop */ }
        await Cluster.DisposeAsync();
    }

    public static void TryDelete(string directory) => TempFolder.TryDelete(directory);
}
