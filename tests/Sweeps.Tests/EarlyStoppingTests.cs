using Orchestrator.Sweeps.EarlyStopping;

namespace Orchestrator.Sweeps.Tests;

public class AshaTests
{
    private static EarlyStoppingPolicy Asha(MetricGoal goal = MetricGoal.Maximize, int brackets = 1) =>
        EarlyStoppingPolicy.Create(new AshaSpec(1, 27, 3, brackets), goal);

    [Fact]
    public void Rungs_sit_at_min_iter_times_powers_of_eta_below_max_iter()
    {
        Assert.Equal([1, 3, 9], AshaRungs.Milestones(1, 27, 3, 0));
        Assert.Equal([3, 9], AshaRungs.Milestones(1, 27, 3, 1));
        Assert.Equal([9], AshaRungs.Milestones(1, 27, 3, 2));
        Assert.Equal([2, 4, 8, 16], AshaRungs.Milestones(2, 20, 2, 0));
        Assert.Empty(AshaRungs.Milestones(1, 27, 3, 3));
    }

    [Fact]
    public void A_trial_goes_on_only_when_fewer_than_max_1_n_over_eta_recorded_metrics_beat_it()
    {
        var asha = Asha();
        // n=1 keep 1: the first trial at a rung always goes on.
        Assert.Equal(Decision.Continue, asha.Report("a", 1, 0.50));
        // n=2 keep 1: b is beaten by a.
        Assert.Equal(Decision.Stop, asha.Report("b", 1, 0.40));
        // n=3 keep 1: c is the best so far.
        Assert.Equal(Decision.Continue, asha.Report("c", 1, 0.60));
        // n=4 keep 1: d is second.
        Assert.Equal(Decision.Stop, asha.Report("d", 1, 0.55));
        Assert.Equal(Decision.Stop, asha.Report("e", 1, 0.30));
        // n=6 keep 2: f is first.
        Assert.Equal(Decision.Continue, asha.Report("f", 1, 0.70));
        // n=7 keep 2: g is third (0.7 and 0.6 beat it).
        Assert.Equal(Decision.Stop, asha.Report("g", 1, 0.58));
        // n=8 keep 2: h is second.
        Assert.Equal(Decision.Continue, asha.Report("h", 1, 0.65));
    }

    [Fact]
    public void Only_rung_iterations_decide_and_each_rung_judges_a_trial_once()
    {
        var asha = Asha();
        Assert.Equal(Decision.Continue, asha.Report("a", 1, 0.9));
        Assert.Equal(Decision.Continue, asha.Report("b", 1, 0.95));
        Assert.Equal(Decision.Continue, asha.Report("a", 2, 0.1)); // between rungs: rung 1 already judged a
        Assert.Equal(Decision.Continue, asha.Report("b", 3, 0.5));  // first at rung 3
        Assert.Equal(Decision.Stop, asha.Report("a", 3, 0.4));      // beaten at rung 3
        Assert.Equal(Decision.Stop, asha.Report("a", 4, 0.99));     // stopped stays stopped
        Assert.True(asha.IsStopped("a"));
    }

    [Fact]
    public void A_trial_that_skips_a_rung_is_judged_at_the_highest_rung_it_reached()
    {
        var asha = Asha();
        Assert.Equal(Decision.Continue, asha.Report("a", 9, 0.9));
        Assert.Equal(Decision.Stop, asha.Report("b", 10, 0.8)); // judged at rung 9 against a
        Assert.Equal(Decision.Continue, asha.Report("c", 1, 0.1)); // rung 1 is empty
    }

    [Fact]
    public void Eta_3_keeps_about_a_third_of_the_trials_at_each_rung()
    {
        var asha = Asha();
        var rng = new SplitMix64(17);
        var survivors = Enumerable.Range(0, 600).Select(i => $"t{i}")
            .Where(id => asha.Report(id, 1, rng.NextDouble()) == Decision.Continue).ToList();
        Assert.InRange(survivors.Count / 600.0, 0.28, 0.40);
        var second = survivors.Where(id => asha.Report(id, 3, rng.NextDouble()) == Decision.Continue).ToList();
        Assert.InRange(second.Count / (double)survivors.Count, 0.25, 0.45);
    }

    [Fact]
    public void Minimize_mirrors_maximize()
    {
        var values = new[] { 0.5, 0.4, 0.6, 0.55, 0.3, 0.7, 0.58, 0.65 };
        var max = Asha(MetricGoal.Maximize);
        var min = Asha(MetricGoal.Minimize);
        var maxDecisions = values.Select((v, i) => max.Report($"t{i}", 1, v)).ToList();
        var minDecisions = values.Select((v, i) => min.Report($"t{i}", 1, -v)).ToList();
        Assert.Equal(maxDecisions, minDecisions);
        Assert.Equal(Decision.Stop, min.Report("low-is-good-but-this-is-high", 1, 10));
    }

    [Fact]
    public void Nan_is_the_worst_metric()
    {
        var asha = Asha(MetricGoal.Minimize);
        Assert.Equal(Decision.Continue, asha.Report("a", 1, 1.0));
        Assert.Equal(Decision.Stop, asha.Report("b", 1, double.NaN));
    }

    [Fact]
    public void Hyperband_assigns_brackets_by_a_stable_hash_and_later_brackets_start_later()
    {
        var hb = EarlyStoppingPolicy.Create(new HyperbandSpec(1, 27, 3, 3), MetricGoal.Maximize);
        var ids = Enumerable.Range(0, 90).Select(i => $"trial-{i}").ToList();
        // In bracket 0 the first rung is iteration 1; brackets 1 and 2 do not judge iteration 1 at all.
        foreach (var id in ids) hb.Report(id, 1, 0);
        var judged = ids.Where(hb.IsStopped).ToList();
        var again = EarlyStoppingPolicy.Create(new HyperbandSpec(1, 27, 3, 3), MetricGoal.Maximize);
        foreach (var id in ids) again.Report(id, 1, 0);
        Assert.Equal(judged, ids.Where(again.IsStopped)); // same assignment every time
        Assert.InRange(judged.Count, 0, 60); // ties continue, so none or few; nobody in brackets 1, 2
        var single = EarlyStoppingPolicy.Create(new HyperbandSpec(1, 27, 3, 3), MetricGoal.Maximize);
        var decisions = ids.Select((id, i) => single.Report(id, 1, -i)).ToList(); // each worse than all before
        var stopped = decisions.Count(d => d == Decision.Stop);
        Assert.InRange(stopped, 15, 45); // about the third in bracket 0, minus its first trial
    }

    [Fact]
    public void Replaying_the_events_reproduces_every_decision()
    {
        var live = Asha(MetricGoal.Maximize, brackets: 2);
        var rng = new SplitMix64(5);
        var decisions = new List<Decision>();
        var iteration = new Dictionary<string, int>();
        for (int step = 0; step < 400; step++)
        {
            var id = $"t{rng.NextBelow(40)}";
            iteration[id] = iteration.GetValueOrDefault(id) + 1;
            decisions.Add(live.Report(id, iteration[id], rng.NextDouble()));
            if (rng.NextBelow(20) == 0) live.Completed(id, [(iteration[id], 0.5)]);
        }

        var restored = Asha(MetricGoal.Maximize, brackets: 2);
        Assert.Equal(decisions, restored.Restore(live.Events));
        Assert.Equal(live.Events, restored.Events);
        Assert.Equal(live.Report("t-new", 1, 0.42), restored.Report("t-new", 1, 0.42));
        Assert.Equal(live.Report("t3", 50, 0.1), restored.Report("t3", 50, 0.1));
    }
}

public class MedianStoppingTests
{
    private static EarlyStoppingPolicy Median(MetricGoal goal = MetricGoal.Maximize) =>
        EarlyStoppingPolicy.Create(new MedianStopSpec(MinTrials: 3, StartIter: 2), goal);

    private static void CompleteThree(EarlyStoppingPolicy p, int sign = 1)
    {
        p.Completed("a", [(1, sign * 0.5), (2, sign * 0.6), (3, sign * 0.7)]);
        p.Completed("b", [(1, sign * 0.4), (2, sign * 0.5), (3, sign * 0.6)]);
        p.Completed("c", [(1, sign * 0.3), (2, sign * 0.4), (3, sign * 0.9)]);
    }

    [Fact]
    public void Stops_a_trial_whose_best_so_far_is_below_the_median_of_completed_trials()
    {
        var p = Median();
        CompleteThree(p); // best so far at iteration 2: 0.6, 0.5, 0.4 → median 0.5; at 3: 0.7, 0.6, 0.9 → 0.7
        Assert.Equal(Decision.Continue, p.Report("x", 1, 0.10)); // before start_iter
        Assert.Equal(Decision.Stop, p.Report("x", 2, 0.45));
        Assert.Equal(Decision.Continue, p.Report("y", 1, 0.55));
        Assert.Equal(Decision.Continue, p.Report("y", 2, 0.20)); // best so far 0.55 ≥ 0.5
        Assert.Equal(Decision.Stop, p.Report("y", 3, 0.65));     // best 0.65 < 0.7
    }

    [Fact]
    public void Waits_for_min_trials_completed_trials()
    {
        var p = Median();
        p.Completed("a", [(1, 0.9), (2, 0.9)]);
        p.Completed("b", [(1, 0.9), (2, 0.9)]);
        Assert.Equal(Decision.Continue, p.Report("x", 2, 0.1));
        p.Completed("c", [(1, 0.9), (2, 0.9)]);
        Assert.Equal(Decision.Stop, p.Report("x", 3, 0.1));
    }

    [Fact]
    public void Completed_trials_count_only_at_iterations_they_reached()
    {
        var p = Median();
        p.Completed("a", [(5, 0.9)]);
        p.Completed("b", [(5, 0.9)]);
        p.Completed("c", [(5, 0.9)]);
        Assert.Equal(Decision.Continue, p.Report("x", 4, 0.1));
        Assert.Equal(Decision.Stop, p.Report("x", 5, 0.1));
    }

    [Fact]
    public void Minimize_uses_the_lowest_metric_as_best()
    {
        var p = Median(MetricGoal.Minimize);
        CompleteThree(p, sign: -1);
        Assert.Equal(Decision.Stop, p.Report("x", 2, -0.45));
        Assert.Equal(Decision.Continue, p.Report("y", 2, -0.55));
    }

    [Fact]
    public void An_empty_completed_curve_falls_back_to_the_trials_reports_and_replay_matches()
    {
        var p = Median();
        foreach (var id in new[] { "a", "b", "c" })
        {
            p.Report(id, 1, 0.5);
            p.Report(id, 2, 0.6);
            p.Completed(id, []);
        }
        var live = p.Report("x", 2, 0.55);
        Assert.Equal(Decision.Stop, live);
        var restored = Median();
        Assert.Equal(Decision.Stop, restored.Restore(p.Events).Last());
    }

    [Fact]
    public void No_early_terminate_never_stops()
    {
        var p = EarlyStoppingPolicy.Create(null, MetricGoal.Maximize);
        Assert.All(Enumerable.Range(1, 50), i => Assert.Equal(Decision.Continue, p.Report("a", i, -i)));
    }
}
