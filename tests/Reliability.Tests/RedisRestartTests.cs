using System.Diagnostics;
using Xunit.Abstractions;

namespace Orchestrator.Reliability.Tests;

public sealed class RedisRestartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Redis_restarted_mid_sweep_the_cluster_recovers_and_the_sweep_completes()
    {
        await using var cluster = await FaultCluster.StartAsync(output);
        var sweep = new TestSweep("redis-restart", Ranks: 4);
        var clock = Stopwatch.StartNew();
        await cluster.SubmitAsync(sweep);

        await cluster.WaitForTrialsAsync(sweep.Name, "trials training",
            trials => trials.Any(t => t.Is("running") && t.Step >= sweep.CheckpointEvery), TimeSpan.FromSeconds(150));
        var restart = Stopwatch.StartNew();
        await cluster.Redis.RestartAsync();
        var down = restart.Elapsed;
        var stepsAfter = await cluster.WaitForTrialsAsync(sweep.Name, "the cluster answering and training after Redis restarted",
            trials => trials.Any(t => t.Is("running")) || trials.All(t => t.IsTerminal), TimeSpan.FromSeconds(90));
        var recovery = restart.Elapsed;

        await cluster.WaitFinishedAsync(sweep.Name, TimeSpan.FromSeconds(180));
        Assert.All(cluster.Silos, s => Assert.False(s.Process!.HasExited, $"{s.Name} exited after Redis restarted"));
        var outcome = await cluster.AssertExactlyOnceAsync(sweep.Name, sweep.Ranks);
        output.WriteLine($"Redis restart: down {down.TotalSeconds:0.0} s, cluster answering with trials running {recovery.TotalSeconds:0.0} s after the restart began; " +
            $"no silo exited; trials re-run {outcome.Rerun}; sweep finished at {clock.Elapsed.TotalSeconds:0.0} s; {outcome}");
    }
}
