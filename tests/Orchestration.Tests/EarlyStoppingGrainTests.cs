using Orchestrator.TestServers;
using Orchestrator.Contracts.Sweeps;
using Xunit.Abstractions;

namespace Orchestrator.Orchestration.Tests;

/// <summary>ASHA decided by the sweep grain on real (tiny) trials: the stop reaches the trainer, and survives a restart.</summary>
public sealed class EarlyStoppingGrainTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Name = "asha-stop";
    private const int MaxSteps = 18;
    private static readonly TimeSpan SweepStall = TimeSpan.FromSeconds(60);
    private readonly string _dataDir = SweepCluster.NewDataDir();

    // One slot, parallel 1: trials run in grid order. The first (a sane lr) sets the bar at each rung; the next two
    // (an lr that wrecks the adapter in two steps) are judged against it at rung 1 (their first evaluation).
    // Rungs: min_iter·eta^k < max_iter = 1, 3 evaluations; eval_every 2 → 9 evaluations at most.
    private static readonly string Spec = new MnistTestSweep(Name)
    {
        Seed = 5, MaxFailures = 0, EarlyTerminate = "{ type: asha, min_iter: 1, max_iter: 9, eta: 3 }",
        Rank = "{ value: 4 }", Lr = "{ values: [1.0e-3, 0.5, 0.8] }", MaxSteps = MaxSteps, EvalEvery = 2,
    }.Yaml;

    public Task InitializeAsync() => Task.CompletedTask;

    // A wider grid for the determinism check: 2 ranks x 5 learning rates, some sane, some wrecking the adapter.
    private static readonly string WideSpec = Spec
        .Replace("rank: { value: 4 }", "rank: { values: [2, 4] }", StringComparison.Ordinal)
        .Replace("lr: { values: [1.0e-3, 0.5, 0.8] }", "lr: { values: [1.0e-3, 3.0e-3, 0.3, 0.5, 0.8] }", StringComparison.Ordinal);

    public Task DisposeAsync()
    {
        SweepCluster.TryDelete(_dataDir);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task The_same_spec_and_seed_on_one_worker_prune_the_same_trials_at_the_same_steps()
    {
        var runs = new List<List<(string Id, TrialState State, long Step, double? Accuracy)>>();
        foreach (var dataDir in new[] { SweepCluster.NewDataDir(), SweepCluster.NewDataDir() })
        {
            try
            {
                await using var cluster = await SweepCluster.StartAsync(1, dataDir);
                await cluster.SubmitAsync(Name, WideSpec);
                var status = await cluster.WaitUntilFinishedAsync(Name, SweepStall * 2);
                Assert.Equal(SweepState.Finished, status.State);
                runs.Add((await cluster.Sweep(Name).GetTrialsAsync())
                    .Select(t => (t.TrialId, t.State, t.Step, t.Metrics.TryGetValue("test_accuracy", out var a) ? a : (double?)null))
                    .OrderBy(t => t.TrialId, StringComparer.Ordinal).ToList());
            }
            finally
            {
                SweepCluster.TryDelete(dataDir);
            }
        }
        foreach (var t in runs[0]) output.WriteLine($"{t.Id} {t.State} step {t.Step} test_accuracy {t.Accuracy:0.####}");
        Assert.Equal(10, runs[0].Count);
        Assert.Contains(runs[0], t => t.State == TrialState.Pruned);
        Assert.Contains(runs[0], t => t.State == TrialState.Succeeded);
        Assert.Equal(runs[0], runs[1]); // same trials pruned, at the same step, with bit-identical metrics
    }

    [Fact]
    public async Task A_pruned_trial_stops_early_on_its_trainer_and_stays_pruned_after_a_cluster_restart()
    {
        List<Orchestrator.Contracts.Trials.TrialRecord> before;
        await using (var cluster = await SweepCluster.StartAsync(1, _dataDir))
        {
            await cluster.SubmitAsync(Name, Spec);
            var status = await cluster.WaitUntilFinishedAsync(Name, SweepStall);
            before = (await cluster.Sweep(Name).GetTrialsAsync()).ToList();
            foreach (var t in before)
                output.WriteLine($"{t.TrialId} lr {t.Parameters["lr"]} {t.State} step {t.Step}/{t.TotalSteps} {string.Join(", ", t.Metrics.Select(m => $"{m.Key}={m.Value:0.####}"))}");

            Assert.Equal(SweepState.Finished, status.State);
            Assert.True(status.Pruned >= 1, $"nothing was pruned: {status}");
            var pruned = before.Where(t => t.State == TrialState.Pruned).ToList();
            // The stop reached the running trainer: it ended well before max_steps, with its metrics kept.
            Assert.All(pruned, t => Assert.InRange(t.Step, 1, MaxSteps - 1));
            Assert.All(pruned, t => Assert.Contains("test_accuracy", t.Metrics.Keys));
            var first = before[0];
            Assert.Equal(TrialState.Succeeded, first.State);
            Assert.Equal(MaxSteps, first.Step);

            var board = await cluster.SweepLeaderboardAsync(Name);
            Assert.Equal(before.Select(t => t.TrialId).Order(), board.Select(e => e.Trial.TrialId).Order());
            Assert.Equal(pruned.Select(t => t.TrialId).Order(), board.Where(e => e.Trial.Pruned).Select(e => e.Trial.TrialId).Order());
            // One best trial: status and the leaderboard rank pruned trials below every finished one, so they agree.
            Assert.Equal(status.BestTrial, board[0].Trial.TrialId);
            Assert.False(board[0].Trial.Pruned);
            Assert.True(board.SkipWhile(e => !e.Trial.Pruned).All(e => e.Trial.Pruned), "a finished trial ranks below a pruned one");
        }

        // A new cluster on the same data directory replays the journal: same decisions, nothing resurrected or re-run.
        await using (var cluster = await SweepCluster.StartAsync(1, _dataDir))
        {
            var status = await cluster.Sweep(Name).GetStatusAsync();
            var after = await cluster.Sweep(Name).GetTrialsAsync();
            Assert.Equal(SweepState.Finished, status.State);
            Assert.Equal(
                before.Select(t => (t.TrialId, t.State, t.Attempts, t.Step)),
                after.Select(t => (t.TrialId, t.State, t.Attempts, t.Step)));
            var board = await cluster.SweepLeaderboardAsync(Name);
            Assert.Equal(before.Count(t => t.State == TrialState.Pruned), board.Count(e => e.Trial.Pruned));

            // Resubmitting the same spec adds nothing and leaves the pruned trials alone. A submission changes the
            // journal before it returns, so a trial it re-queued would already show as queued (and the sweep as
            // running) here: nothing to wait for.
            var again = await cluster.SubmitAsync(Name, Spec);
            Assert.Equal(0, again.AddedTrials);
            var resubmitted = await cluster.Sweep(Name).GetStatusAsync();
            Assert.Equal((SweepState.Finished, 0, 0), (resubmitted.State, resubmitted.Queued, resubmitted.Running));
            Assert.Equal(
                before.Select(t => (t.TrialId, t.State, t.Attempts, t.Step)),
                (await cluster.Sweep(Name).GetTrialsAsync()).Select(t => (t.TrialId, t.State, t.Attempts, t.Step)));
        }
    }
}
