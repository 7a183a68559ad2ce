using System.Text.Json;
using Orchestrator.Contracts.Trials;

namespace Orchestrator.Sweeps.Tests;

/// <summary>The typed trial contract: plan values keep their types, and one objective decides "better" everywhere.</summary>
public sealed class TrialContractTests
{
    private const string Sweep = """
        name: typed
        task: { model: mlp, dataset: mnist }
        metric: { name: test_accuracy, goal: maximize }
        parameters:
          rank: { values: [4, 8] }
          alpha: { per_rank: 2 }
          lr: { value: 2.0e-4 }
          use_rslora: { value: true }
          schedule: { value: cosine }
          target_modules: { value: [l1, l2] }
        """;

    [Fact]
    public void Plans_carry_integers_numbers_flags_text_and_lists_as_such()
    {
        var plan = SweepExpander.Expand(SweepFile.Parse(Sweep, "typed.yaml"))[0];

        Assert.Equal(TrialKind.Lora, plan.Kind);
        Assert.Equal(ParameterValue.Of(4L), plan.Parameters["rank"]);
        Assert.Equal(ParameterValueKind.Number, plan.Parameters["lr"].Kind);
        Assert.Equal(2e-4, plan.Parameters["lr"].AsNumber);
        Assert.Equal(8.0, plan.Parameters["alpha"].AsNumber);
        Assert.Equal(ParameterValue.Of(true), plan.Parameters["use_rslora"]);
        Assert.Equal(ParameterValue.Of("cosine"), plan.Parameters["schedule"]);
        Assert.Equal(["l1", "l2"], plan.Parameters["target_modules"].Items!.Select(i => i.Text));
        Assert.Equal(["rank", "alpha", "lr", "use_rslora", "schedule", "target_modules"], plan.Parameters.Keys); // file order
    }

    [Fact]
    public void Json_writes_each_value_as_its_json_type_and_reads_it_back()
    {
        var values = new Dictionary<string, ParameterValue>
        {
            ["rank"] = ParameterValue.Of(16L),
            ["lr"] = ParameterValue.Of(0.001),
            ["seed"] = ParameterValue.Of(long.MaxValue),
            ["use_rslora"] = ParameterValue.Of(false),
            ["target_modules"] = ParameterValue.List([ParameterValue.Of("q_proj"), ParameterValue.Of("v_proj")]),
            ["rank_pattern"] = ParameterValue.Map([KeyValuePair.Create("q_proj", ParameterValue.Of(4L))]),
        };

        var json = JsonSerializer.Serialize(values);

        Assert.Equal("""{"rank":16,"lr":0.001,"seed":9223372036854775807,"use_rslora":false,"target_modules":["q_proj","v_proj"],"rank_pattern":{"q_proj":4}}""", json);
        Assert.Equal(values, JsonSerializer.Deserialize<Dictionary<string, ParameterValue>>(json));
        Assert.Equal("[q_proj,v_proj]", values["target_modules"].ToString());
        Assert.Equal("{q_proj:4}", values["rank_pattern"].ToString());
    }

    [Theory]
    [InlineData(true, new[] { "b", "a", "c", "missing", "nan" })]
    [InlineData(false, new[] { "c", "a", "b", "missing", "nan" })]
    public void One_objective_orders_best_first_with_missing_and_nan_last_and_ties_by_id(bool maximize, string[] expected)
    {
        var scores = new (string Id, double? Score)[] { ("nan", double.NaN), ("a", 0.5), ("missing", null), ("b", 0.9), ("c", 0.1) };
        var objective = new MetricObjective("m", maximize);

        var ordered = objective.RankTrials(scores, s => s.Score, _ => false, s => s.Id).Select(s => s.Id);

        // NaN and missing both rank last, among themselves by id.
        Assert.Equal(expected.Take(3), ordered.Take(3));
        Assert.Equal(["missing", "nan"], ordered.Skip(3));
        Assert.Equal(expected[0], objective.BestTrial(scores.Select(s => new Holder(s.Id, s.Score)), h => h.Score, _ => false, h => h.Id)!.Id);
        Assert.True(objective.IsBetter(maximize ? 0.95 : 0.05, 0.5));
        Assert.True(objective.IsBetter(0.5, null));
    }

    [Fact]
    public void A_pruned_trial_ranks_below_every_finished_trial_even_with_a_better_score_and_is_best_only_when_nothing_finished()
    {
        var objective = new MetricObjective("test_accuracy", Maximize: true);
        var trials = new (string Id, double? Score, bool Pruned)[] { ("p", 0.99, true), ("a", 0.5, false), ("b", 0.7, false), ("q", 0.2, true) };

        var ranked = objective.RankTrials(trials, t => t.Score, t => t.Pruned, t => t.Id).Select(t => t.Id);

        Assert.Equal(["b", "a", "p", "q"], ranked);
        Assert.Equal("b", objective.BestTrial(trials.Select(t => new Ranked(t.Id, t.Score, t.Pruned)), t => t.Score, t => t.Pruned, t => t.Id)!.Id);
        Assert.Equal("p", objective.BestTrial(trials.Where(t => t.Pruned).Select(t => new Ranked(t.Id, t.Score, t.Pruned)), t => t.Score, t => t.Pruned, t => t.Id)!.Id);
    }

    private sealed record Ranked(string Id, double? Score, bool Pruned);

    [Fact]
    public void Trial_kinds_have_one_lower_case_name_each()
    {
        Assert.Equal(["lora", "full", "base"], TrialKinds.Names);
        Assert.Equal("\"full\"", JsonSerializer.Serialize(TrialKind.Full));
        Assert.Equal(TrialKind.Base, JsonSerializer.Deserialize<TrialKind>("\"base\""));
        Assert.Contains("allowed: lora, full, base", Assert.Throws<FormatException>(() => TrialKinds.Parse("qlora")).Message);
    }

    [Fact]
    public void Trial_kinds_are_the_adapters_a_config_can_train_one_for_one() =>
        Assert.Equal(Orchestrator.Trials.Configuration.ConfigNames<Orchestrator.Trials.Configuration.AdapterKind>.All, TrialKinds.Names);

    private sealed record Holder(string Id, double? Score);
}
