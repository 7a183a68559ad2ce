using System.Diagnostics;
using Xunit.Abstractions;

namespace Orchestrator.Reliability.Tests;

public sealed class AzuriteOutageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Blob_storage_down_for_30_seconds_mid_sweep_crashes_nothing_and_every_result_lands_with_its_checksum()
    {
        await using var cluster = await FaultCluster.StartAsync(output);
        var sweep = new TestSweep("azurite-outage", Ranks: 4);
        var clock = Stopwatch.StartNew();
        await cluster.SubmitAsync(sweep);

        var before = await cluster.WaitForTrialsAsync(sweep.Name, "trials training",
            trials => trials.Any(t => t.Is("running") && t.Step >= sweep.CheckpointEvery), TimeSpan.FromSeconds(150));
        await cluster.Azurite.StopAsync();
        output.WriteLine($"Azurite stopped at {clock.Elapsed.TotalSeconds:0.0} s");
        await Task.Delay(TimeSpan.FromSeconds(30)); // the outage itself: storage stays down this long whatever happens
        var during = await cluster.TrialsAsync(sweep.Name);
        // 30 s without storage crashed nothing so far: every silo is up, no trial failed or was given up and re-queued
        // (a checkpoint or result that cannot be written waits in the storage pipeline: no attempt count rose), and the
        // trials are still in the sweep's hands.
        Assert.All(cluster.Silos, s => Assert.False(s.Process!.HasExited, $"{s.Name} exited during the outage\n{cluster.LogTails()}"));
        Assert.Equal(sweep.Ranks, during.Count);
        Assert.All(during, t => Assert.False(t.Is("failed"), $"{t} failed during the storage outage\n{cluster.LogTails()}"));
        foreach (var trial in during)
        {
            // A trial queued at the stop may start during the outage (its first attempt); none may start a second.
            var attemptsBefore = before.SingleOrDefault(b => b.TrialId == trial.TrialId)?.Attempts ?? 0;
            Assert.True(trial.Attempts <= Math.Max(1, attemptsBefore),
                $"{trial} was given up and re-queued during the storage outage (attempts at the stop: {attemptsBefore})\n{cluster.LogTails()}");
        }
        Assert.Contains(during, t => t.Is("running") || t.Is("queued"));
        var restarted = Stopwatch.StartNew();
        await cluster.Azurite.RestartAsync();
        output.WriteLine($"Azurite back at {clock.Elapsed.TotalSeconds:0.0} s; trials after 30 s without storage: {string.Join("; ", during)}");

        await cluster.WaitFinishedAsync(sweep.Name, TimeSpan.FromSeconds(180));
        var drained = restarted.Elapsed;
        Assert.All(cluster.Silos, s => Assert.False(s.Process!.HasExited, $"{s.Name} exited during the outage"));
        var outcome = await cluster.AssertExactlyOnceAsync(sweep.Name, sweep.Ranks);
        output.WriteLine($"Azurite outage 30 s: no silo exited; sweep finished {drained.TotalSeconds:0.0} s after storage came back; " +
            $"trials re-run {outcome.Rerun}; {outcome}");
    }
}
