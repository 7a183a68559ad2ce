using System.Globalization;
using System.Text.Json.Nodes;
using Orchestrator.Sweeps.Search;

namespace Orchestrator.Sweeps.Tests;

public class TpeSamplerTests
{
    private static readonly SweepSpec Spec = SweepFile.Parse("""
        name: tpe
        seed: 3
        task: { model: mlp, dataset: mnist }
        metric: { name: test_accuracy, goal: maximize }
        method: bayes
        run_cap: 200
        parameters:
          lr: { distribution: log_uniform_values, min: 0.0001, max: 0.1 }
          rank: { values: [1, 2, 4, 8, 16, 32] }
          dropout: { distribution: q_uniform, min: 0, max: 0.5, q: 0.05 }
          bias: { values: [none, all, lora_only] }
          max_steps: { value: 10 }
        """, "tpe.yaml");

    private static readonly SearchSpace Space = SearchSpace.Of(Spec);

    private static double Number(JsonNode n) => double.Parse(n.ToJsonString(), CultureInfo.InvariantCulture);

    /// <summary>A smooth made-up accuracy: best at lr 0.01, rank 8, dropout 0.1, bias all.</summary>
    private static double Objective(IReadOnlyDictionary<string, JsonNode> p) =>
        1 - 0.1 * Math.Pow(Math.Log10(Number(p["lr"])) + 2, 2) - 0.02 * Math.Pow(Math.Log2(Number(p["rank"])) - 3, 2)
        - 0.5 * Math.Pow(Number(p["dropout"]) - 0.1, 2) - (p["bias"].ToJsonString() == "\"all\"" ? 0 : 0.05);

    private static Dictionary<string, JsonNode> Dict(List<KeyValuePair<string, JsonNode>> values) => values.ToDictionary(kv => kv.Key, kv => kv.Value);

    private static List<string> Run(long seed, int trials, Func<IReadOnlyDictionary<string, JsonNode>, double> objective, List<double>? scores = null)
    {
        var sampler = new TpeSampler(Space, maximize: true);
        var seen = new List<string>();
        for (int i = 0; i < trials; i++)
        {
            var p = Dict(sampler.Suggest(new SplitMix64((ulong)(seed * 1000 + i)), []));
            seen.Add(string.Join(",", p.Select(kv => kv.Key + "=" + kv.Value.ToJsonString())));
            var score = objective(p);
            scores?.Add(score);
            sampler.Complete(p, score);
        }
        return seen;
    }

    [Fact]
    public void The_same_seed_and_the_same_results_in_the_same_order_give_the_same_suggestions()
    {
        Assert.Equal(Run(1, 40, Objective), Run(1, 40, Objective));
        Assert.NotEqual(Run(1, 40, Objective), Run(2, 40, Objective));
    }

    [Fact]
    public void The_first_ten_suggestions_are_prior_draws_and_every_suggestion_is_a_value_of_the_space()
    {
        var sampler = new TpeSampler(Space, maximize: true);
        for (int i = 0; i < 30; i++)
        {
            var p = Dict(sampler.Suggest(new SplitMix64((ulong)i), []));
            Assert.InRange(Number(p["lr"]), 1e-4 * 0.999, 0.1 * 1.001);
            Assert.Contains(Number(p["rank"]), new double[] { 1, 2, 4, 8, 16, 32 });
            Assert.Equal(Math.Round(Number(p["dropout"]) / 0.05), Number(p["dropout"]) / 0.05, 6);
            Assert.Equal(10, Number(p["max_steps"]));
            if (i < 10) Assert.Equal(Dict(Space.Draw(new SplitMix64((ulong)i))).Select(kv => kv.Value.ToJsonString()), p.Select(kv => kv.Value.ToJsonString()));
            sampler.Complete(p, Objective(p));
        }
    }

    [Fact]
    public void Tpe_finds_a_better_best_than_prior_draws_on_a_smooth_objective_over_20_seeds()
    {
        double Best(bool tpe, long seed)
        {
            if (!tpe) return Enumerable.Range(0, 40).Max(i => Objective(Dict(Space.Draw(new SplitMix64((ulong)(seed * 1000 + i))))));
            var scores = new List<double>();
            Run(seed, 40, Objective, scores);
            return scores.Max();
        }
        var tpe = Enumerable.Range(0, 20).Select(s => Best(true, s)).Order().ToList();
        var random = Enumerable.Range(0, 20).Select(s => Best(false, s)).Order().ToList();
        Assert.True(tpe[10] > random[10], $"median best: TPE {tpe[10]:F4}, random {random[10]:F4}");
    }

    [Fact]
    public void Running_trials_count_as_bad_so_parallel_suggestions_differ()
    {
        var sampler = new TpeSampler(Space, maximize: true);
        for (int i = 0; i < 30; i++)
        {
            var p = Dict(sampler.Suggest(new SplitMix64((ulong)i), []));
            sampler.Complete(p, Objective(p));
        }
        var running = new List<IReadOnlyDictionary<string, JsonNode>>();
        for (int i = 0; i < 8; i++) running.Add(Dict(sampler.Suggest(new SplitMix64(1000UL + (ulong)i), running)));
        Assert.Equal(8, running.Select(p => string.Join(",", p.Values.Select(v => v.ToJsonString()))).Distinct().Count());
    }

    [Fact]
    public void Pruned_trials_rank_below_completed_ones_deeper_rungs_first()
    {
        // With 10 observations the good set is the single best: a pruned trial never is, however good its last value.
        var sampler = new TpeSampler(Space, maximize: true, new TpeOptions { StartupTrials = 1 });
        var good = Dict(Space.Draw(new SplitMix64(1)));
        good["rank"] = JsonValue.Create(32L);
        sampler.Complete(good, 0.5);
        for (int i = 0; i < 9; i++)
        {
            var p = Dict(Space.Draw(new SplitMix64(100UL + (ulong)i)));
            p["rank"] = JsonValue.Create(1L);
            sampler.Pruned(p, lastIteration: 3, lastMetric: 0.99);
        }
        var ranks = Enumerable.Range(0, 20).Select(i => Number(Dict(sampler.Suggest(new SplitMix64(500UL + (ulong)i), []))["rank"])).ToList();
        Assert.True(ranks.Count(r => r >= 16) > ranks.Count(r => r <= 2), string.Join(",", ranks));
    }

    [Fact]
    public void Optunas_weights_ramp_from_1_over_n_for_the_oldest_to_1_for_the_newest_25()
    {
        Assert.Equal(Enumerable.Repeat(1.0, 25), TpeSampler.RampWeights(25));
        var w = TpeSampler.RampWeights(35);
        Assert.Equal(1.0 / 35, w[0], 12);
        Assert.Equal(1.0, w[9], 12);
        Assert.All(w.Skip(10), x => Assert.Equal(1.0, x));
    }
}
