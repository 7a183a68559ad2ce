using Orchestrator.Trials.Configuration;

namespace Orchestrator.Sweeps.Tests;

public class SweepFileTests
{
    internal const string Valid = """
        name: demo
        description: a demo
        seed: 42
        task:
          model: mlp
          dataset: mnist
          base: { pretrain: { epochs: 5, lr: 2.0e-4, batch_size: 1024 } }
        metric: { name: test_accuracy, goal: maximize }
        method: grid
        run_cap: 100
        parallel: 4
        max_failures: 2
        baselines: [full, base]
        parameters:
          rank: { values: [1, 2, 4] }
          alpha: { value: 1 }
          target_modules: { values: [[l1, l2, l3]] }
          epochs: { value: 5 }
          seed: { values: [0, 1] }
        """;

    private static SweepValidationException Invalid(string yaml) =>
        Assert.Throws<SweepValidationException>(() => SweepFile.Parse(yaml, "bad.yaml"));

    [Fact]
    public void The_issue_example_parses_into_every_field()
    {
        var spec = SweepFile.Parse(Valid, "demo.yaml");
        Assert.Equal("demo", spec.Name);
        Assert.Equal(42, spec.Seed);
        Assert.Equal(new TaskSpec("mlp", "mnist", spec.Task.Base), spec.Task);
        Assert.Equal(new PretrainSpec { Epochs = 5, LearningRate = 2e-4, BatchSize = 1024 }, spec.Task.Base!.Pretrain);
        Assert.Equal(new MetricSpec("test_accuracy", MetricGoal.Maximize), spec.Metric);
        Assert.Equal((SweepMethod.Grid, 100, 4, 2), (spec.Method, spec.RunCap, spec.Parallel, spec.MaxFailures));
        Assert.Equal([BaselineKind.Full, BaselineKind.Base], spec.Baselines);
        Assert.Equal(["rank", "alpha", "target_modules", "epochs", "seed"], spec.Parameters.Select(p => p.Key));
        Assert.Equal(Valid, spec.SourceText);
        Assert.Equal("demo.yaml", spec.SourceName);
        var rank = Assert.IsType<ValuesParameter>(spec.Parameters[0].Value);
        Assert.Equal(["1", "2", "4"], rank.Values.Select(v => v.ToJsonString()));
        Assert.Equal((15, 3), (rank.Line, rank.Column));
    }

    [Fact]
    public void Every_problem_is_reported_at_once_with_its_position()
    {
        var e = Invalid(Valid.Replace("[1, 2, 4]", "[0, 2, 4]").Replace("alpha: { value: 1 }", "alpha: { value: .nan }").Replace("goal: maximize", "goal: up"));
        Assert.Equal(3, e.Problems.Count);
        Assert.Equal("bad.yaml:8:38: metric.goal must be maximize or minimize, got 'up'", e.Problems[0].ToString());
        Assert.Equal("bad.yaml:15:20: rank must be an integer ≥ 1, got 0", e.Problems[1].ToString());
        Assert.Equal("bad.yaml:16:19: alpha must be a finite number > 0, got .nan", e.Problems[2].ToString());
        Assert.Equal(string.Join("\n", e.Problems), e.Message);
    }

    [Fact]
    public void Unknown_parameter_suggests_the_trainer_name()
    {
        var e = Invalid(Valid.Replace("epochs: { value: 5 }", "learnin_rate: { value: 0.001 }"));
        Assert.Equal("unknown parameter 'learnin_rate' (did you mean 'lr'?)", Assert.Single(e.Problems).Message);
    }

    [Fact]
    public void Unknown_target_module_lists_the_models_linear_modules()
    {
        var e = Invalid(Valid.Replace("model: mlp", "model: transformer-block").Replace("[[l1, l2, l3]]", "[[q_prj, v_proj]]"));
        Assert.StartsWith("unknown target module 'q_prj' for model transformer-block; its linear modules are q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj",
            Assert.Single(e.Problems).Message);
    }

    [Fact]
    public void A_named_encoders_target_typo_is_found_at_its_entry_with_the_short_name_suggested_and_layer_stacks_shown_once()
    {
        var e = Invalid("""
            name: enc
            task: { model: minilm-l6, dataset: imdb }
            metric: { name: test_accuracy, goal: maximize }
            parameters:
              target_modules: { value: [query, valeu] }
            """);
        var problem = Assert.Single(e.Problems);
        Assert.Equal((5, 36), (problem.Line, problem.Column));
        Assert.StartsWith("unknown target module 'valeu' for model minilm-l6; its linear modules are bert.encoder.layer.N.attention.self.query, ", problem.Message);
        Assert.EndsWith("(or all-linear) (did you mean 'value'?)", problem.Message);
        Assert.DoesNotContain("layer.5.", problem.Message);
    }

    [Fact]
    public void Syntax_errors_become_problems_at_their_position()
    {
        var e = Invalid("name: x\nseed: [1, 2\n");
        var p = Assert.Single(e.Problems);
        Assert.StartsWith("YAML syntax error", p.Message);
        Assert.True(p.Line >= 2, p.ToString());
    }

    [Fact]
    public void A_file_over_one_megabyte_is_rejected_before_parsing()
    {
        var e = Invalid(Valid + "\n#" + new string('x', SweepFile.MaxFileBytes));
        Assert.Contains("larger than", Assert.Single(e.Problems).Message);
    }

    [Fact]
    public void Load_reports_a_missing_file_as_a_problem()
    {
        var e = Assert.Throws<SweepValidationException>(() => SweepFile.Load(Path.Combine(Path.GetTempPath(), "no-such-sweep.yaml")));
        Assert.Contains("file not found", e.Message);
    }

    [Fact]
    public void Random_sweeps_accept_every_distribution()
    {
        var spec = SweepFile.Parse("""
            name: random-demo
            task: { model: mlp, dataset: mnist }
            metric: { name: test_accuracy, goal: maximize }
            method: random
            run_cap: 20
            parameters:
              rank: { distribution: int_uniform, min: 1, max: 64 }
              lr: { distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-2 }
              dropout: { distribution: uniform, min: 0, max: 0.5 }
              weight_decay: { distribution: q_uniform, min: 0, max: 0.1, q: 0.01 }
              bias: { distribution: categorical, values: [none, all] }
            """, "r.yaml");
        Assert.Equal(SweepMethod.Random, spec.Method);
        Assert.Equal(
            [DistributionKind.IntUniform, DistributionKind.LogUniformValues, DistributionKind.Uniform, DistributionKind.QUniform, DistributionKind.Categorical],
            spec.Parameters.Select(p => ((DistributionParameter)p.Value).Kind));
    }

    [Fact]
    public void Early_terminate_forms_parse_with_defaults()
    {
        SweepSpec With(string et) => SweepFile.Parse(Valid + "\nearly_terminate: " + et + "\n", "e.yaml");
        Assert.Equal(new AshaSpec(1, 27, 3, 1), With("{ type: asha, max_iter: 27 }").EarlyTerminate);
        Assert.Equal(new HyperbandSpec(1, 27, 3, 3), With("{ type: hyperband, max_iter: 27 }").EarlyTerminate);
        Assert.Equal(new MedianStopSpec(3, 4), With("{ type: median, min_trials: 3, start_iter: 4 }").EarlyTerminate);
    }

    [Fact]
    public void Every_trainer_option_is_a_parameter()
    {
        var keys = typeof(TrainingConfig).GetProperties()
            .SelectMany(p => p.GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonPropertyNameAttribute), false).Cast<System.Text.Json.Serialization.JsonPropertyNameAttribute>())
            .Select(a => a.Name)
            .Except(["model", "dataset"]);
        Assert.Equal(keys.Order(), TrainerParameters.All.Keys.Order());
    }
}

public class SuggestionTests
{
    [Theory]
    [InlineData("rnak", "rank")]
    [InlineData("learning_rate", "lr")]
    [InlineData("lora_dropout", "dropout")]
    [InlineData("batchsize", "batch_size")]
    [InlineData("target_module", "target_modules")]
    [InlineData("zzzzzz", null)]
    [InlineData("l4", null)]
    public void Did_you_mean_uses_synonyms_then_edit_distance(string typed, string? expected) =>
        Assert.Equal(expected, Suggestions.DidYouMean(typed, TrainerParameters.All.Keys.Append("l1"), TrainerParameters.Synonyms));

    [Fact]
    public void A_transposition_is_one_edit() => Assert.Equal(1, Suggestions.Levenshtein("modle", "model"));
}
