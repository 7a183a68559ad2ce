using Orchestrator.Contracts.Trials;

namespace Orchestrator.Sweeps.Tests;

/// <summary>`baselines:` as a mapping: full fine-tuning and the probe train with their own learning rates beside the adapters'.</summary>
public sealed class BaselineValuesTests
{
    private const string Head = """
        name: own-rates
        seed: 3
        task: { model: minilm-l6, dataset: imdb }
        metric: { name: test_accuracy, goal: maximize }

        """;

    private const string Parameters = """

        parameters:
          rank: { values: [4, 8] }
          lr: { value: 1.0e-3 }
          seq_len: { value: 96 }
          seed: { values: [0, 1] }
        """;

    private static SweepSpec Parse(string baselines) => SweepFile.Parse(Head + baselines + Parameters, "own.yaml");

    private static SweepValidationException Invalid(string baselines) =>
        Assert.Throws<SweepValidationException>(() => SweepFile.Parse(Head + baselines + Parameters, "own.yaml"));

    [Fact]
    public void Full_fine_tuning_and_the_probe_take_their_own_values_and_the_adapters_keep_the_swept_ones()
    {
        var trials = SweepExpander.Expand(Parse("baselines:\n  full: { lr: 5.0e-5, warmup_ratio: 0.1 }\n  base: { learning_rate: 1.0e-2 }"));

        Assert.All(trials.Where(t => t.Kind == TrialKind.Lora), t => Assert.Equal(1e-3, t.Config.LearningRate));
        var full = trials.Where(t => t.Kind == TrialKind.Full).ToList();
        Assert.Equal(2, full.Count); // one per repeat, as the list form
        Assert.All(full, t => Assert.Equal((5e-5, 0.1, 96), (t.Config.LearningRate, t.Config.WarmupRatio, t.Config.SequenceLength)));
        var probe = trials.Where(t => t.Kind == TrialKind.Base).ToList();
        Assert.Equal(2, probe.Count);
        Assert.All(probe, t => Assert.Equal(1e-2, t.Config.LearningRate));
    }

    [Fact]
    public void The_mapping_without_values_is_the_list_the_same_trials_and_the_same_spec_hash()
    {
        var list = Parse("baselines: [full, base]");
        var mapping = Parse("baselines:\n  full:\n  base: {}");
        Assert.Equal(SweepExpander.Expand(list).Select(t => t.TrialId), SweepExpander.Expand(mapping).Select(t => t.TrialId));
        Assert.Equal(CanonicalSpec.Of(list).Hash, CanonicalSpec.Of(mapping).Hash);
        Assert.NotEqual(CanonicalSpec.Of(list).Hash, CanonicalSpec.Of(Parse("baselines:\n  full: { lr: 5.0e-5 }\n  base:")).Hash);
    }

    [Fact]
    public void A_LoRA_option_for_a_baseline_is_refused_where_it_is_written()
    {
        var e = Invalid("baselines:\n  full: { rank: 8 }");
        var problem = Assert.Single(e.Problems);
        Assert.Equal((6, 11), (problem.Line, problem.Column));
        Assert.Contains("baseline full trains no adapter, so rank cannot be set for it", problem.Message);
    }

    [Fact]
    public void Unknown_baselines_options_and_bad_values_name_what_is_allowed()
    {
        Assert.Contains("baseline must be full or base, got 'lora'", Assert.Single(Invalid("baselines:\n  lora: { lr: 1.0e-3 }").Problems).Message);
        Assert.Contains("unknown option in baseline base 'lrr'", Assert.Single(Invalid("baselines:\n  base: { lrr: 1.0e-3 }").Problems).Message);
        Assert.Contains("lr must be a finite number > 0, got -1", Assert.Single(Invalid("baselines:\n  full: { lr: -1 }").Problems).Message);
        Assert.Contains("takes one value", Assert.Single(Invalid("baselines:\n  full: { lr: [1.0e-3, 2.0e-3] }").Problems).Message);
        // A typo of a Hugging Face spelling is suggested as our name, as in parameters.
        Assert.Contains("unknown option in baseline full 'learnin_rate' (did you mean 'lr'?)",
            Assert.Single(Invalid("baselines:\n  full: { learnin_rate: 1.0e-4 }").Problems).Message);
    }
}
