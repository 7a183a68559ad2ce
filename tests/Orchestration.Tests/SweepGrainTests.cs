using Orchestrator.Contracts.Sweeps;

namespace Orchestrator.Orchestration.Tests;

/// <summary>
/// The sweep grain's worker-facing contract, driven by hand (the silo has no training slots): results are recorded
/// once, stale attempts are told to stop, silent workers lose their trials, pause hands running trials back.
/// </summary>
public sealed class SweepGrainTests : HandDrivenCluster
{
    private const string Name = "by-hand";
    private const string Spec = """
        name: by-hand
        seed: 1
        task: { model: mlp, dataset: mnist }
        metric: { name: test_accuracy, goal: maximize }
        method: grid
        parallel: 2
        max_failures: 1
        parameters:
          rank: { values: [1, 2, 4] }
          max_steps: { value: 10 }
        """;
    private static readonly WorkerSlot Worker = new("hand/0", "hand", "cpu", 0);
    private ISweepGrain Sweep => Cluster.Sweep(Name);

    private static TrialCompletion Completion(TrialLease lease, double accuracy) =>
        new(lease.TrialId, lease.Attempt, new Dictionary<string, double> { ["test_accuracy"] = accuracy }, 10, 100, 10, 0.1, false, null, null);

    private static TrialProgressReport Progress(TrialLease lease, long step) =>
        new(lease.TrialId, lease.Attempt, step, 10, new Dictionary<string, double>(), 0, false);

    [Fact]
    public async Task Leases_respect_parallel_and_a_result_is_recorded_once_whatever_the_retries()
    {
        await Cluster.SubmitAsync(Name, Spec);
        var leases = await Sweep.LeaseAsync(Worker, 5);
        Assert.Equal(2, leases.Count); // parallel: 2
        Assert.Empty(await Sweep.LeaseAsync(Worker with { WorkerId = "other/0" }, 5));

        Assert.True(await Sweep.CompleteTrialAsync(Completion(leases[0], 0.8)));
        Assert.False(await Sweep.CompleteTrialAsync(Completion(leases[0], 0.8)));
        Assert.False(await Sweep.CompleteTrialAsync(Completion(leases[0], 0.1) with { Attempt = 7 }));
        // The finished attempt's late progress is told to stop.
        Assert.Equal(TrialDirective.Abandon, await Sweep.ReportProgressAsync(Progress(leases[0], 10)));
        Assert.Equal(TrialDirective.Continue, await Sweep.ReportProgressAsync(Progress(leases[1], 3)));

        var board = await Cluster.SweepLeaderboardAsync(Name);
        var entry = Assert.Single(board);
        Assert.Equal(0.8, entry.Score);
    }

    [Fact]
    public async Task A_slot_that_asks_again_gets_the_lease_whose_reply_it_lost_same_attempt_not_another_trial()
    {
        await Cluster.SubmitAsync(Name, Spec);
        var lost = (await Sweep.LeaseAsync(Worker, 1)).Single();

        // The slot never saw `lost` (its silo died mid-call, or the call timed out) and asks again.
        var again = (await Sweep.LeaseAsync(Worker, 1)).Single();
        Assert.Equal((lost.TrialId, lost.Attempt), (again.TrialId, again.Attempt));
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(lost.Config), System.Text.Json.JsonSerializer.Serialize(again.Config));

        var trials = await Sweep.GetTrialsAsync();
        Assert.Equal(1, trials.Single(t => t.TrialId == lost.TrialId).Attempts);
        Assert.Equal(1, trials.Count(t => t.State == TrialState.Running));
        Assert.Equal(TrialDirective.Continue, await Sweep.ReportProgressAsync(Progress(again, 2)));
    }

    [Fact]
    public async Task A_trial_whose_worker_goes_silent_is_requeued_and_the_old_attempt_is_abandoned()
    {
        await Cluster.SubmitAsync(Name, Spec);
        var first = (await Sweep.LeaseAsync(Worker, 1)).Single();

        // HeartbeatTimeout is 3 s in these clusters.
        await Cluster.WaitUntilAsync(Name, s => s.Running == 0 && s.Queued == 3, TimeSpan.FromSeconds(15));
        var second = (await Sweep.LeaseAsync(Worker with { WorkerId = "other/0" }, 1)).Single();
        Assert.Equal(first.TrialId, second.TrialId);
        Assert.Equal(first.Attempt + 1, second.Attempt);

        Assert.Equal(TrialDirective.Abandon, await Sweep.ReportProgressAsync(Progress(first, 5)));
        await Sweep.FailTrialAsync(new TrialFailure(first.TrialId, first.Attempt, "zombie", true)); // ignored
        Assert.Equal(TrialDirective.Continue, await Sweep.ReportProgressAsync(Progress(second, 5)));
        var trial = (await Sweep.GetTrialsAsync()).Single(t => t.TrialId == first.TrialId);
        Assert.Equal((TrialState.Running, 2, "other/0"), (trial.State, trial.Attempts, trial.Worker));
    }

    [Fact]
    public async Task Pause_hands_running_trials_back_and_resume_leases_them_again()
    {
        await Cluster.SubmitAsync(Name, Spec);
        var lease = (await Sweep.LeaseAsync(Worker, 1)).Single();

        Assert.Equal(SweepState.Paused, (await Sweep.ControlAsync(SweepCommand.Pause)).State);
        Assert.Equal(TrialDirective.Release, await Sweep.ReportProgressAsync(Progress(lease, 4)));
        await Sweep.ReleaseTrialAsync(lease.TrialId, lease.Attempt);
        Assert.Empty(await Sweep.LeaseAsync(Worker, 1));
        var status = await Sweep.GetStatusAsync();
        Assert.Equal((3, 0, 0), (status.Queued, status.Running, status.Failed)); // a hand-back is not a failure

        Assert.Equal(SweepState.Running, (await Sweep.ControlAsync(SweepCommand.Resume)).State);
        var again = (await Sweep.LeaseAsync(Worker, 1)).Single();
        Assert.Equal((lease.TrialId, lease.Attempt + 1), (again.TrialId, again.Attempt));

        var cancelled = await Sweep.ControlAsync(SweepCommand.Cancel);
        Assert.Equal((SweepState.Cancelled, 3), (cancelled.State, cancelled.Cancelled));
        Assert.Equal(TrialDirective.Abandon, await Sweep.ReportProgressAsync(Progress(again, 6)));
    }
}
