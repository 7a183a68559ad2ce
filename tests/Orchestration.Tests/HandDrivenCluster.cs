namespace Orchestrator.Orchestration.Tests;

/// <summary>
/// A test class over one real silo with no training slots, in its own data dir: the grains are driven by hand (leases,
/// progress, completions), so nothing trains behind the test's back.
/// </summary>
public abstract class HandDrivenCluster : IAsyncLifetime
{
    private readonly string _dataDir = SweepCluster.NewDataDir();

    protected SweepCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await SweepCluster.StartAsync(1, _dataDir, slotsPerSilo: 0);

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        SweepCluster.TryDelete(_dataDir);
    }
}
