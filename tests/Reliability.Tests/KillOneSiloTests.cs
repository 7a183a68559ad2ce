using System.Diagnostics;
using Xunit.Abstractions;

namespace Orchestrator.Reliability.Tests;

public sealed class KillOneSiloTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_silo_killed_mid_trial_loses_nothing_its_trial_resumes_on_another_silo_from_its_checkpoint()
    {
        await using var cluster = await FaultCluster.StartAsync(output);
        await KillOneSiloScenario.RunAsync(cluster, output);
    }
}

/// <summary>Kill -9 a silo mid-trial and check nothing is lost; tests/Security.Tests runs it with mutual TLS on.</summary>
public static class KillOneSiloScenario
{
    /// <param name="cluster">A started cluster of three silos.</param>
    public static async Task RunAsync(FaultCluster cluster, ITestOutputHelper output)
    {
        // One silo stays free to take the orphan at once. Long enough trials that the victim is surely mid-training when
        // killed: the wait sees a step up to FaultCluster.ObservationLagSteps behind the trainer.
        var sweep = new TestSweep("kill-one", Ranks: 2, Steps: 2 * FaultCluster.ObservationLagSteps + 200, CheckpointEvery: 100);
        bool Candidate(TrialRow t) => t.Is("running") && t.Step >= 2 * sweep.CheckpointEvery && t.Step < sweep.Steps - FaultCluster.ObservationLagSteps
            && cluster.SiloRunning(t) >= 0;
        var clock = Stopwatch.StartNew();
        await cluster.SubmitAsync(sweep);

        var running = await cluster.WaitForTrialsAsync(sweep.Name, "a trial past its first checkpoint",
            trials => trials.Any(Candidate),
            TimeSpan.FromSeconds(120));
        var victim = running.First(Candidate);
        var silo = cluster.SiloRunning(victim);
        var killed = Stopwatch.StartNew();
        await cluster.KillSiloAsync(silo);
        output.WriteLine($"kill -9 {cluster.Silos[silo].Name} at {clock.Elapsed.TotalSeconds:0.0} s while it trained {victim}");

        var resumed = await cluster.WaitForTrialsAsync(sweep.Name, $"{victim.TrialId} taken over by another silo",
            trials => trials.Single(t => t.TrialId == victim.TrialId) is { Attempts: >= 2 } t
                && (t.Is("succeeded") || (t.Is("running") && cluster.SiloRunning(t) is var s && s >= 0 && s != silo)),
            TimeSpan.FromSeconds(90));
        var recovery = killed.Elapsed;
        var takeover = resumed.Single(t => t.TrialId == victim.TrialId);

        await cluster.WaitFinishedAsync(sweep.Name, TimeSpan.FromSeconds(180));
        var outcome = await cluster.AssertExactlyOnceAsync(sweep.Name, sweep.Ranks);

        var final = outcome.Trials.Single(t => t.TrialId == victim.TrialId);
        Assert.True(final.Attempts >= 2, $"{victim.TrialId} ran once: {final}");
        using var result = await cluster.ResultAsync(sweep.Name, victim.TrialId);
        var resumedFrom = result.RootElement.GetProperty("resumed_from");
        Assert.True(resumedFrom.ValueKind == System.Text.Json.JsonValueKind.String,
            $"{victim.TrialId} had a checkpoint at step >= {sweep.CheckpointEvery} but its final attempt started fresh: {result.RootElement}");
        output.WriteLine($"kill one silo: trial {victim.TrialId} re-queued and running again on {takeover.Worker} {recovery.TotalSeconds:0.0} s after the kill " +
            $"(heartbeat timeout {FaultCluster.HeartbeatTimeoutSeconds} s); resumed from {resumedFrom.GetString()} (checkpoint of attempt 1); " +
            $"trials re-run {outcome.Rerun}; sweep finished at {clock.Elapsed.TotalSeconds:0.0} s; {outcome}");
    }
}
