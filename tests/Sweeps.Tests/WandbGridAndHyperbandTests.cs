using System.Globalization;
using Orchestrator.Sweeps.EarlyStopping;

namespace Orchestrator.Sweeps.Tests;

/// <summary>
/// W&amp;B's grid over bounded distributions (wandb/sweeps grid_search.py) and its hyperband with min_iter alone
/// (hyperband_stopping.py), with the vectors of its tests (test_grid_search.py, test_hyperband_stopping.py).
/// </summary>
public class WandbGridAndHyperbandTests
{
    private static SweepSpec Parse(string body, string metric = "test_accuracy", string goal = "maximize") => SweepFile.Parse($"""
        name: wandb-rest
        task: {"{"} model: mlp, dataset: mnist {"}"}
        metric: {"{"} name: {metric}, goal: {goal} {"}"}
        {body}
        """, "wandb.yaml");

    private static IReadOnlyList<string> Values(SweepSpec spec, string key) =>
        Assert.IsType<ValuesParameter>(spec.Parameters.Single(p => p.Key == key).Value).Values.Select(v => v.ToJsonString()).ToList();

    // --- grid ---------------------------------------------------------------------------------------------------

    [Fact]
    public void A_grid_lists_every_integer_of_an_int_uniform_from_min_to_max()
    {
        // test_int_uniform_bounded_grid_search: range(min, max + 1).
        var spec = Parse("method: grid\nparameters:\n  rank: { distribution: int_uniform, min: 1, max: 16 }\n  epochs: { min: 1, max: 3 }");
        Assert.Equal(Enumerable.Range(1, 16).Select(i => i.ToString(CultureInfo.InvariantCulture)), Values(spec, "rank"));
        Assert.Equal(["1", "2", "3"], Values(spec, "epochs")); // int_uniform inferred from integer bounds, as W&B
        Assert.Equal(48, SweepExpander.Expand(spec).Count);
    }

    [Fact]
    public void A_grid_lists_a_q_uniform_as_numpys_arange_from_min_below_max_with_its_float_rounding()
    {
        // test_q_uniform_bounded_grid_search's q 2.341 and max 23.23 (its min -9.211 is shifted to 1.211: alpha is > 0);
        // the values are numpy.arange(1.211, 23.23, 2.341).tolist(), bit for bit.
        var spec = Parse("method: grid\nparameters:\n  alpha: { distribution: q_uniform, min: 1.211, max: 23.23, q: 2.341 }\n  dropout: { distribution: q_uniform, min: 0, max: 0.5, q: 0.1 }");
        Assert.Equal(["1.211", "3.5520000000000005", "5.893000000000001", "8.234", "10.575000000000001", "12.916000000000002", "15.257000000000001", "17.598", "19.939", "22.28"],
            Values(spec, "alpha"));
        Assert.Equal(["0", "0.1", "0.2", "0.30000000000000004", "0.4"], Values(spec, "dropout")); // max is left out, as W&B's grid does
        Assert.Equal(0.30000000000000004, SweepExpander.Expand(spec).Select(t => t.Config.Dropout).Distinct().ElementAt(3));
    }

    [Fact]
    public void A_grid_over_a_q_uniform_of_an_integer_option_gives_integers()
    {
        var spec = Parse("method: grid\nparameters:\n  batch_size: { distribution: q_uniform, min: 16, max: 64, q: 16 }");
        Assert.Equal(["16", "32", "48"], Values(spec, "batch_size"));
        Assert.Equal([16, 32, 48], SweepExpander.Expand(spec).Select(t => t.Config.BatchSize));
    }

    [Fact]
    public void A_grid_lists_a_categoricals_values_and_refuses_its_probabilities()
    {
        Assert.Equal(["\"none\"", "\"all\""], Values(Parse("method: grid\nparameters:\n  bias: { distribution: categorical, values: [none, all] }"), "bias"));
        var error = Assert.Throws<SweepValidationException>(() =>
            Parse("method: grid\nparameters:\n  bias: { distribution: categorical, values: [none, all], probabilities: [0.5, 0.5] }"));
        Assert.Contains("probabilities have no meaning there", Assert.Single(error.Problems).Message);
    }

    [Fact]
    public void A_grid_refuses_a_continuous_distribution_where_it_is_written_saying_what_a_grid_takes()
    {
        var error = Assert.Throws<SweepValidationException>(() => Parse("method: grid\nparameters:\n  lr: { distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-2 }"));
        var problem = Assert.Single(error.Problems);
        Assert.Equal(("wandb.yaml", 6, 23), (problem.File, problem.Line, problem.Column));
        Assert.Contains("parameter lr has a log_uniform_values distribution, which a grid cannot enumerate: a grid takes value, values, categorical, int_uniform", problem.Message);
        Assert.Contains("use method: random or bayes", problem.Message);
        Assert.Contains("uniform (inferred from min and max)", Assert.Throws<SweepValidationException>(() => Parse("method: grid\nparameters:\n  lr: { min: 0.001, max: 0.01 }")).Message);
    }

    [Fact]
    public void A_grid_too_large_to_list_is_refused_before_it_is_listed()
    {
        var error = Assert.Throws<SweepValidationException>(() => Parse("method: grid\nparameters:\n  max_steps: { distribution: int_uniform, min: 1, max: 2000000000 }"));
        Assert.Contains("gives 2000000000 grid values; a grid has at most 10000 trials", Assert.Single(error.Problems).Message);
    }

    [Fact]
    public void A_grid_q_uniform_with_a_bad_q_says_so_once()
    {
        var error = Assert.Throws<SweepValidationException>(() => Parse("method: grid\nparameters:\n  dropout: { distribution: q_uniform, min: 0, max: 0.5, q: 0 }"));
        Assert.Contains("q must be a finite number > 0, got 0", Assert.Single(error.Problems).Message);
    }

    // --- hyperband ----------------------------------------------------------------------------------------------

    [Fact]
    public void Hyperband_with_min_iter_alone_has_W_and_Bs_bands_min_iter_times_eta_to_the_k_in_one_bracket()
    {
        // test_hyperband_min_iter_bands: min_iter 3, eta 3 → bands [3, 9, 27, ...] (W&B lists 100 of them).
        var spec = Parse("method: grid\nparameters:\n  rank: { values: [4, 8] }\nearly_terminate: { type: hyperband, min_iter: 3, eta: 3 }");
        var hyperband = Assert.IsType<HyperbandSpec>(spec.EarlyTerminate);
        Assert.Equal(new HyperbandSpec(3, SweepFile.MaxIterLimit, 3, 1), hyperband);
        Assert.Equal([3, 9, 27, 81, 243], AshaRungs.Milestones(hyperband.MinIter, hyperband.MaxIter, hyperband.Eta, 0).Take(5));
        Assert.Equal(3, Assert.IsType<HyperbandSpec>(Parse("method: grid\nparameters:\n  rank: { values: [4, 8] }\nearly_terminate: { type: hyperband, min_iter: 2 }").EarlyTerminate).Eta);
    }

    [Theory]
    [InlineData("test_loss", "minimize", -1)]
    [InlineData("test_accuracy", "maximize", 1)]
    public void Hyperband_with_min_iter_alone_stops_the_run_W_and_Bs_test_stops(string metric, string goal, int sign)
    {
        // test_hyperband_min_iter_bands(_max): run holds at 10 for 4 evaluations; run2 improves by 1 each of 10.
        // W&B judges both histories at band 3; ASHA judges on arrival, so run2 reports first here.
        var spec = Parse("method: grid\nparameters:\n  rank: { values: [4, 8] }\nearly_terminate: { type: hyperband, min_iter: 3, eta: 3 }", metric, goal);
        var policy = EarlyStoppingPolicy.Create(spec.EarlyTerminate, spec.Metric.Goal);
        var run2 = Enumerable.Range(0, 10).Select(i => policy.Report("run2", i + 1, 10 + sign * i)).ToList();
        var run = Enumerable.Range(0, 4).Select(i => policy.Report("run", i + 1, 10)).ToList();

        Assert.All(run2, d => Assert.Equal(Decision.Continue, d));
        Assert.Equal([Decision.Continue, Decision.Continue, Decision.Stop, Decision.Stop], run);
    }

    [Fact]
    public void Hyperband_without_max_iter_or_min_iter_is_refused_naming_both_forms()
    {
        var error = Assert.Throws<SweepValidationException>(() => Parse("method: grid\nparameters:\n  rank: { values: [4, 8] }\nearly_terminate: { type: hyperband, eta: 3 }"));
        Assert.Contains("needs max_iter (the most evaluations a trial makes), or min_iter (W&B's form", Assert.Single(error.Problems).Message);
    }

    [Fact]
    public void A_fractional_eta_gives_W_and_Bs_bands_rounded_down_and_keeps_the_top_n_over_eta()
    {
        // W&B's hyperband_stop_runs: bands int(min_iter·eta^k), min_iter 30, eta 1.5 → 30, 45, 67, 101, 151.
        var spec = Parse("method: grid\nparameters:\n  rank: { values: [4, 8] }\nearly_terminate: { type: hyperband, min_iter: 30, eta: 1.5 }");
        var hyperband = Assert.IsType<HyperbandSpec>(spec.EarlyTerminate);
        Assert.Equal(1.5, hyperband.Eta);
        Assert.Equal([30, 45, 67, 101, 151], AshaRungs.Milestones(hyperband.MinIter, hyperband.MaxIter, hyperband.Eta, 0).Take(5));
        // A rung that rounds onto the one before it is one rung: 1, 1.2, 1.44, 1.73, 2.07, 2.49, 2.99, 3.58 → 1, 2, 3.
        Assert.Equal([1, 2, 3], AshaRungs.Milestones(1, 4, 1.2, 0));

        // With eta 1.5 the top floor(n / 1.5) at a rung go on: 1 of 2, 2 of 3, 2 of 4, 3 of 5, 4 of 6.
        var policy = EarlyStoppingPolicy.Create(new AshaSpec(1, 10, 1.5, 1), MetricGoal.Maximize);
        Assert.Equal(Decision.Continue, policy.Report("a", 1, 0.9));
        Assert.Equal(Decision.Continue, policy.Report("b", 1, 0.95)); // best of 2
        Assert.Equal(Decision.Stop, policy.Report("c", 1, 0.1)); // third of 3
        Assert.Equal(Decision.Continue, policy.Report("d", 1, 0.92)); // second of 4
        Assert.Equal(Decision.Continue, policy.Report("e", 1, 0.91)); // third of 5 (keep 3)
        Assert.Equal(Decision.Stop, policy.Report("f", 1, 0.5)); // fifth of 6 (keep 4)
    }

    [Theory]
    [InlineData("1")]
    [InlineData("0.5")]
    [InlineData("101")]
    [InlineData(".inf")]
    public void An_eta_of_1_or_less_or_over_100_is_refused_naming_the_range(string eta)
    {
        var error = Assert.Throws<SweepValidationException>(() => Parse($"method: grid\nparameters:\n  rank: {{ values: [4, 8] }}\nearly_terminate: {{ type: hyperband, min_iter: 30, eta: {eta} }}"));
        Assert.Contains($"eta must be a number above 1 and at most 100 (the factor between rungs), got {eta}", Assert.Single(error.Problems).Message);
    }
}
