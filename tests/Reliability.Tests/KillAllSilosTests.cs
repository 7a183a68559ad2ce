using System.Diagnostics;
using Xunit.Abstractions;

namespace Orchestrator.Reliability.Tests;

public sealed class KillAllSilosTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_silo_killed_mid_sweep_and_started_again_resumes_the_sweep_without_rerunning_finished_trials()
    {
        await using var cluster = await FaultCluster.StartAsync(output);
        var sweep = new TestSweep("kill-all", Ranks: 5);
        var clock = Stopwatch.StartNew();
        await cluster.SubmitAsync(sweep);

        var before = await cluster.WaitForTrialsAsync(sweep.Name, "one trial finished and another past a checkpoint",
            trials => trials.Any(t => t.Is("succeeded")) && trials.Any(t => t.Is("running") && t.Step >= sweep.CheckpointEvery),
            TimeSpan.FromSeconds(150));
        for (var i = 0; i < cluster.Silos.Count; i++) await cluster.KillSiloAsync(i);
        var finishedBefore = before.Where(t => t.Is("succeeded")).Select(t => t.TrialId).ToHashSet();
        output.WriteLine($"kill -9 all {cluster.Silos.Count} silos at {clock.Elapsed.TotalSeconds:0.0} s: {string.Join("; ", before)}");

        var restart = Stopwatch.StartNew();
        // Readiness waits for Orleans' grain directory to stop pointing at the dead generation of every silo: 6–48 s
        // measured here, so a margin well past that.
        await Task.WhenAll(Enumerable.Range(0, cluster.Silos.Count).Select(i => cluster.StartSiloAsync(i, TimeSpan.FromSeconds(180))));
        var siloUp = restart.Elapsed;
        await cluster.WaitForTrialsAsync(sweep.Name, "a trial training again after the restart",
            trials => trials.Any(t => t.Is("running") && t.Attempts >= 2) || trials.All(t => t.IsTerminal), TimeSpan.FromSeconds(300)); // nothing changes until the heartbeat check re-queues: a wide stall
        var recovery = restart.Elapsed;

        await cluster.WaitFinishedAsync(sweep.Name, TimeSpan.FromSeconds(180));
        var outcome = await cluster.AssertExactlyOnceAsync(sweep.Name, sweep.Ranks);
        foreach (var id in finishedBefore)
            Assert.Equal(1, outcome.Trials.Single(t => t.TrialId == id).Attempts);
        output.WriteLine($"kill all silos: silos back in {siloUp.TotalSeconds:0.0} s, training again {recovery.TotalSeconds:0.0} s after the restart began; " +
            $"{finishedBefore.Count} trials finished before the crash, none re-run (attempts 1); trials re-run {outcome.Rerun}; " +
            $"sweep finished at {clock.Elapsed.TotalSeconds:0.0} s; {outcome}");
    }
}
