using Orchestrator.Contracts.Sweeps;
using Orchestrator.Grains.Journal;
using Orchestrator.Grains.Sweeps;
using Orchestrator.Sweeps;

namespace Orchestrator.Orchestration.Tests;

/// <summary>The sweep's state is the replay of its journal: these pin down what each event does, and what it must not.</summary>
public sealed class SweepLedgerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static string Yaml(int runCap = 100, int maxFailures = 1, string? earlyTerminate = null) => $"""
        name: ledger
        seed: 7
        task: {"{"} model: mlp, dataset: mnist {"}"}
        metric: {"{"} name: test_accuracy, goal: maximize {"}"}
        method: grid
        run_cap: {runCap}
        parallel: 4
        max_failures: {maxFailures}
        parameters:
          rank: {"{"} values: [1, 2, 4, 8] {"}"}
          max_steps: {"{"} value: 10 {"}"}
        {(earlyTerminate is null ? "" : "early_terminate: " + earlyTerminate)}
        """;

    private static SweepSubmitted Submitted(string yaml) => SweepPlan.Of(SweepFile.Parse(yaml, "ledger.yaml")).Submitted(T0);

    private static SweepExtended Extended(DateTimeOffset at, string yaml) => new(at, yaml, PlannedTrial.Of(SweepFile.Parse(yaml, "ledger.yaml")));

    private static SweepLedger Replay(IEnumerable<SweepEvent> events)
    {
        var ledger = new SweepLedger();
        // Through the journal's JSON, as the grain's activation reads them.
        foreach (var e in events) ledger.Apply(JournalJson.Deserialize<SweepEvent>(JournalJson.Serialize(e)));
        return ledger;
    }

    private static TrialCompletion Completion(string trial, int attempt, double accuracy = 0.9, bool pruned = false) =>
        new(trial, attempt, new Dictionary<string, double> { ["test_accuracy"] = accuracy }, 100, 1000, 10, 1.5, pruned, "sha", null);

    private static IEnumerable<(string Id, TrialState State, int Attempt, int Failures, long Step, bool Prune)> Snapshot(SweepLedger l) =>
        l.Trials.Select(t => (t.Id, t.State, t.Attempt, t.Failures, t.Step, t.PruneRequested));

    [Fact]
    public void Replaying_the_journal_reproduces_every_trial_state()
    {
        var ledger = new SweepLedger();
        var events = new List<SweepEvent> { Submitted(Yaml()) };
        ledger.Apply(events[0]);
        var ids = ledger.Trials.Select(t => t.Id).ToList();
        Assert.Equal(4, ids.Count);
        events.AddRange(
        [
            new TrialLeased(T0, ids[0], 1, "s1/0"),
            new TrialLeased(T0, ids[1], 1, "s1/1"),
            new TrialLeased(T0, ids[2], 1, "s2/0"),
            new TrialCheckpointed(T0, ids[1], 1, "sweeps/ledger/trials/x/checkpoints/step-5/", 5),
            new TrialCompleted(T0, ids[0], 1, Completion(ids[0], 1)),
            new TrialFailed(T0, ids[2], 1, "boom", Retryable: true),
            new TrialRequeued(T0, ids[1], 1, "worker lost"),
            new TrialLeased(T0, ids[1], 2, "s2/0"),
        ]);
        foreach (var e in events.Skip(1)) ledger.Apply(e);

        var replayed = Replay(events);

        Assert.Equal(Snapshot(ledger), Snapshot(replayed));
        Assert.Equal(SweepState.Running, replayed.State);
        Assert.Equal([TrialState.Succeeded, TrialState.Running, TrialState.Queued, TrialState.Queued], replayed.Trials.Select(t => t.State));
        var resumed = replayed.Find(ids[1])!;
        Assert.Equal(5, resumed.Step); // a new attempt resumes from the checkpoint
        Assert.Equal("sweeps/ledger/trials/x/checkpoints/step-5/", Assert.Single(resumed.Checkpoints).Location);
    }

    [Fact]
    public void A_second_completion_of_a_trial_changes_nothing()
    {
        var ledger = Replay([Submitted(Yaml())]);
        var id = ledger.Trials[0].Id;
        ledger.Apply(new TrialLeased(T0, id, 1, "a/0"));
        ledger.Apply(new TrialRequeued(T0, id, 1, "worker lost"));
        ledger.Apply(new TrialLeased(T0, id, 2, "b/0"));
        ledger.Apply(new TrialCompleted(T0, id, 2, Completion(id, 2, 0.91)));

        // The zombie first attempt finishes late, and the second attempt's completion is retried.
        ledger.Apply(new TrialCompleted(T0, id, 1, Completion(id, 1, 0.50)));
        ledger.Apply(new TrialCompleted(T0, id, 2, Completion(id, 2, 0.10, pruned: true)));

        var trial = ledger.Find(id)!;
        Assert.Equal(TrialState.Succeeded, trial.State);
        Assert.Equal(0.91, trial.Result!.Metrics["test_accuracy"]);
        Assert.Equal(2, trial.Result.Attempt);
    }

    [Fact]
    public void A_trial_is_retried_max_failures_times_then_marked_failed()
    {
        var ledger = Replay([Submitted(Yaml(maxFailures: 2))]);
        var id = ledger.Trials[0].Id;
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            ledger.Apply(new TrialLeased(T0, id, attempt, "w/0"));
            ledger.Apply(new TrialFailed(T0, id, attempt, $"failure {attempt}", Retryable: true));
            Assert.Equal(TrialState.Queued, ledger.Find(id)!.State);
        }
        ledger.Apply(new TrialLeased(T0, id, 3, "w/0"));
        ledger.Apply(new TrialFailed(T0, id, 3, "failure 3", Retryable: true));

        var trial = ledger.Find(id)!;
        Assert.Equal(TrialState.Failed, trial.State);
        Assert.Equal(3, trial.Failures);
        Assert.Equal("failure 3", trial.Error);
    }

    [Fact]
    public void A_non_retryable_failure_fails_the_trial_at_once_and_a_stale_attempts_failure_is_ignored()
    {
        var ledger = Replay([Submitted(Yaml(maxFailures: 5))]);
        var (a, b) = (ledger.Trials[0].Id, ledger.Trials[1].Id);
        ledger.Apply(new TrialLeased(T0, a, 1, "w/0"));
        ledger.Apply(new TrialFailed(T0, a, 1, "bad config", Retryable: false));
        ledger.Apply(new TrialLeased(T0, b, 1, "w/0"));
        ledger.Apply(new TrialRequeued(T0, b, 1, "worker lost"));
        ledger.Apply(new TrialLeased(T0, b, 2, "w/1"));
        ledger.Apply(new TrialFailed(T0, b, 1, "zombie", Retryable: true));

        Assert.Equal(TrialState.Failed, ledger.Find(a)!.State);
        Assert.Equal(TrialState.Running, ledger.Find(b)!.State);
        Assert.Equal(0, ledger.Find(b)!.Failures);
    }

    [Fact]
    public void Requeue_applies_only_to_the_current_attempt()
    {
        var ledger = Replay([Submitted(Yaml())]);
        var id = ledger.Trials[0].Id;
        ledger.Apply(new TrialLeased(T0, id, 1, "a/0"));
        ledger.Apply(new TrialRequeued(T0, id, 1, "worker lost"));
        ledger.Apply(new TrialLeased(T0, id, 2, "b/0"));

        ledger.Apply(new TrialRequeued(T0, id, 1, "stale heartbeat check of attempt 1"));
        Assert.Equal(TrialState.Running, ledger.Find(id)!.State);
        Assert.Equal("b/0", ledger.Find(id)!.Worker);

        ledger.Apply(new TrialRequeued(T0, id, 2, "released by its worker"));
        Assert.Equal(TrialState.Queued, ledger.Find(id)!.State);
        Assert.Equal(0, ledger.Find(id)!.Failures); // a hand-back is not a failure
    }

    [Fact]
    public void Raising_run_cap_adds_trials_and_reopens_a_finished_sweep()
    {
        var ledger = Replay([Submitted(Yaml(runCap: 2))]);
        Assert.Equal(2, ledger.Trials.Count);
        foreach (var (t, i) in ledger.Trials.Select((t, i) => (t, i + 1)).ToList())
        {
            ledger.Apply(new TrialLeased(T0, t.Id, 1, "w/0"));
            ledger.Apply(new TrialCompleted(T0, t.Id, 1, Completion(t.Id, 1)));
        }
        ledger.Apply(new SweepStateChanged(T0, SweepState.Finished));
        Assert.True(ledger.AllTerminal);
        var first = ledger.Trials.Select(t => t.Id).ToList();

        ledger.Apply(Extended(T0.AddMinutes(1), Yaml(runCap: 4)));

        Assert.Equal(SweepState.Running, ledger.State);
        Assert.Null(ledger.FinishedAt);
        Assert.Equal(4, ledger.Trials.Count);
        Assert.Equal(first, ledger.Trials.Take(2).Select(t => t.Id));
        Assert.All(ledger.Trials.Take(2), t => Assert.Equal(TrialState.Succeeded, t.State));
        Assert.All(ledger.Trials.Skip(2), t => Assert.Equal(TrialState.Queued, t.State));
    }

    [Fact]
    public void Cancel_marks_queued_and_running_trials_cancelled_and_keeps_results()
    {
        var ledger = Replay([Submitted(Yaml())]);
        var ids = ledger.Trials.Select(t => t.Id).ToList();
        ledger.Apply(new TrialLeased(T0, ids[0], 1, "w/0"));
        ledger.Apply(new TrialCompleted(T0, ids[0], 1, Completion(ids[0], 1)));
        ledger.Apply(new TrialLeased(T0, ids[1], 1, "w/1"));

        ledger.Apply(new SweepStateChanged(T0, SweepState.Cancelled));

        Assert.Equal(SweepState.Cancelled, ledger.State);
        Assert.NotNull(ledger.FinishedAt);
        Assert.Equal([TrialState.Succeeded, TrialState.Cancelled, TrialState.Cancelled, TrialState.Cancelled], ledger.Trials.Select(t => t.State));
        // A late completion of the running trial does not resurrect it.
        ledger.Apply(new TrialCompleted(T0, ids[1], 1, Completion(ids[1], 1)));
        Assert.Equal(TrialState.Cancelled, ledger.Find(ids[1])!.State);
    }

    [Fact]
    public void Asha_prune_decisions_are_the_same_after_a_replay()
    {
        var events = new List<SweepEvent> { Submitted(Yaml(earlyTerminate: "{ type: asha, min_iter: 1, max_iter: 9, eta: 3 }")) };
        var live = new SweepLedger();
        live.Apply(events[0]);
        var ids = live.Trials.Select(t => t.Id).ToList();
        // Rungs at 1 and 3 evaluations. At rung 1 the first trial always goes on; later ones only in the top third.
        double[] atRung1 = [0.90, 0.50, 0.95, 0.40];
        for (var i = 0; i < ids.Count; i++)
        {
            events.Add(new TrialLeased(T0, ids[i], 1, $"w/{i}"));
            events.Add(new TrialEvaluated(T0, ids[i], 1, 1, atRung1[i]));
        }
        events.Add(new TrialEvaluated(T0, ids[0], 1, 2, 0.91));
        events.Add(new TrialEvaluated(T0, ids[0], 1, 3, 0.92));
        events.Add(new TrialEvaluated(T0, ids[2], 1, 2, 0.93));
        events.Add(new TrialEvaluated(T0, ids[2], 1, 3, 0.80));
        events.Add(new TrialCompleted(T0, ids[1], 1, Completion(ids[1], 1, 0.5, pruned: true)));
        // As the grain does: each stop the rule decides is journaled right after its evaluation.
        var journaled = new List<SweepEvent> { events[0] };
        foreach (var e in events.Skip(1))
        {
            live.Apply(e);
            journaled.Add(e);
            if (live.TakeUndecidedStop(T0) is { } decided)
            {
                live.Apply(decided);
                journaled.Add(decided);
            }
        }
        events = journaled;
        Assert.Equal(3, events.OfType<TrialPruneDecided>().Count());
        Assert.All(events.OfType<TrialPruneDecided>(), d => Assert.Equal("asha(min_iter 1, max_iter 9, eta 3, brackets 1)", d.Rule));

        string[] Pruned(SweepLedger l) => l.Trials.Where(t => t.PruneRequested).Select(t => t.Id).Order().ToArray();
        var expected = new[] { ids[1], ids[3], ids[2] }.Order().ToArray();
        Assert.Equal(expected, Pruned(live));
        Assert.False(live.Find(ids[0])!.PruneRequested);

        var replayed = Replay(events);

        Assert.Equal(Pruned(live), Pruned(replayed));
        Assert.Equal(Snapshot(live), Snapshot(replayed));
        Assert.Equal(TrialState.Pruned, replayed.Find(ids[1])!.State);
    }

    [Fact]
    public void Replay_takes_prune_decisions_from_the_journal_and_never_re_derives_one_it_does_not_hold()
    {
        var submitted = Submitted(Yaml(earlyTerminate: "{ type: asha, min_iter: 1, max_iter: 9, eta: 3 }"));
        var ids = Replay([submitted]).Trials.Select(t => t.Id).ToList();
        // The rule would stop the second trial at rung 1 (0.5 after a first trial's 0.9), but this journal holds no
        // decision for it (as if a later rule would decide otherwise); it holds one for the third, which the rule would keep.
        var replayed = Replay([
            submitted,
            new TrialLeased(T0, ids[0], 1, "w/0"), new TrialEvaluated(T0, ids[0], 1, 1, 0.9),
            new TrialLeased(T0, ids[1], 1, "w/1"), new TrialEvaluated(T0, ids[1], 1, 1, 0.5),
            new TrialLeased(T0, ids[2], 1, "w/2"), new TrialEvaluated(T0, ids[2], 1, 1, 0.99),
            new TrialPruneDecided(T0, ids[2], 1, 1, "asha(min_iter 1, max_iter 9, eta 3, brackets 1)"),
        ]);

        Assert.Equal([false, false, true, false], replayed.Trials.Select(t => t.PruneRequested));
        Assert.Null(replayed.TakeUndecidedStop(T0));
    }

    [Fact]
    public void Without_early_terminate_no_trial_is_ever_pruned()
    {
        var ledger = Replay([Submitted(Yaml())]);
        foreach (var (t, i) in ledger.Trials.Select((t, i) => (t, i)).ToList())
        {
            ledger.Apply(new TrialLeased(T0, t.Id, 1, "w/0"));
            ledger.Apply(new TrialEvaluated(T0, t.Id, 1, 1, 0.1 * i));
        }
        Assert.DoesNotContain(ledger.Trials, t => t.PruneRequested);
    }

    [Fact]
    public void Replay_keeps_every_attempt_with_its_worker_and_outcome_and_marks_changed_trials_with_a_newer_version()
    {
        var ledger = Replay([Submitted(Yaml(maxFailures: 1))]);
        var ids = ledger.Trials.Select(t => t.Id).ToList();
        var afterSubmit = ledger.Version;
        ledger.Apply(new TrialLeased(T0, ids[0], 1, "silo-a/0"));
        ledger.Apply(new TrialFailed(T0.AddSeconds(5), ids[0], 1, "<b>out of memory</b>", Retryable: true));
        ledger.Apply(new TrialLeased(T0.AddSeconds(6), ids[0], 2, "silo-b/1"));
        ledger.Apply(new TrialCompleted(T0.AddSeconds(9), ids[0], 2, Completion(ids[0], 2)));

        var attempts = ledger.Find(ids[0])!.Attempts;
        Assert.Equal([(1, "silo-a", "failed", "<b>out of memory</b>"), (2, "silo-b", "succeeded", (string?)null)],
            attempts.Select(a => (a.Number, a.Silo, a.Outcome!, a.Error)));
        Assert.Equal(T0.AddSeconds(9), attempts[1].EndedAt);
        Assert.Equal([ids[0]], ledger.ChangedSince(afterSubmit).Select(t => t.Id));
        Assert.Equal(4, ledger.ChangedSince(0).Count());
        Assert.Empty(ledger.ChangedSince(ledger.Version));
    }
}
