using System.Text.Json.Nodes;
using Orchestrator.Sweeps.Search;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Sweeps.Tests;

/// <summary>W&amp;B sweep files as people write them (Corpus/wandb): every syntax feature they use validates.</summary>
public class WandbSweepFileTests
{
    private static string Corpus(string file) => Path.Combine(RepositoryPaths.MalformedCorpus, "..", "wandb", file);

    private static (SweepSpec Spec, IReadOnlyList<SweepProblem> Warnings) Load(string file)
    {
        var spec = SweepFile.Load(Corpus(file), out var warnings);
        return (spec, warnings);
    }

    private static SweepSpec Parse(string yaml) => SweepFile.Parse(yaml, "wandb.yaml");

    private static SweepValidationException Invalid(string yaml) => Assert.Throws<SweepValidationException>(() => SweepFile.Parse(yaml, "wandb.yaml"));

    public static TheoryData<string> Files() => new(Directory.GetFiles(Path.GetDirectoryName(Corpus("x"))!, "*.yaml").Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(Files))]
    public void A_wandb_style_file_validates_and_its_trials_pass_the_trainers_rules(string file)
    {
        var (spec, _) = Load(file);
        var trials = spec.Method == SweepMethod.Bayes ? SweepExpander.PriorSample(spec) : SweepExpander.Expand(spec);
        Assert.NotEmpty(trials);
        Assert.All(trials, t => Assert.Empty(t.Config.Problems()));
    }

    [Fact]
    public void Hugging_Face_and_PEFT_spellings_are_the_trainers_options()
    {
        var (spec, _) = Load("lora-hf-bayes.yaml");
        Assert.Equal(["lr", "rank", "alpha", "dropout", "batch_size", "epochs", "warmup_ratio", "schedule", "weight_decay", "max_steps", "use_rslora", "init", "target_modules"],
            spec.Parameters.Select(p => p.Key));
        var init = Assert.IsType<ValuesParameter>(spec.Parameters.Single(p => p.Key == "init").Value);
        Assert.Equal(["\"kaiming\"", "\"gaussian\""], init.Values.Select(v => v.ToJsonString()));
        var schedule = Assert.IsType<ValuesParameter>(spec.Parameters.Single(p => p.Key == "schedule").Value);
        Assert.Equal(["\"linear\"", "\"cosine\"", "\"constant\""], schedule.Values.Select(v => v.ToJsonString()));
    }

    [Fact]
    public void A_free_text_name_is_slugified_for_storage_and_kept_as_written_for_display()
    {
        var (spec, _) = Load("lora-hf-bayes.yaml");
        Assert.Equal("lora-sweep-rank-lr-v2", spec.Name);
        Assert.Equal("LoRA sweep (rank × lr), v2", spec.DisplayName);
    }

    [Fact]
    public void A_file_without_a_name_takes_the_file_name()
    {
        var (spec, _) = Load("nested-random.yaml");
        Assert.Equal("nested-random", spec.Name);
    }

    [Fact]
    public void Wandb_only_keys_give_one_warning_each_and_the_defaults_are_warned_about()
    {
        var (_, warnings) = Load("nested-random.yaml");
        var messages = warnings.Select(w => w.Message).ToList();
        foreach (var key in new[] { "controller", "job", "scheduler" })
            Assert.Single(messages, m => m.StartsWith($"'{key}' is ignored: it is W&B's", StringComparison.Ordinal));
        Assert.Single(messages, m => m.StartsWith("no metric: trials are ranked by test_loss (minimize)", StringComparison.Ordinal));
        Assert.Single(messages, m => m.StartsWith($"no run_cap: method random runs {SweepFile.DefaultRunCap} trials", StringComparison.Ordinal));
        Assert.Equal(5, warnings.Count);

        var (_, bayes) = Load("lora-hf-bayes.yaml");
        Assert.Equal(["'program' is ignored", "'project' is ignored", "'entity' is ignored", "'command' is ignored", "hyperband strict"],
            bayes.Select(w => string.Join(' ', w.Message.Split(' ').Take(w.Message.StartsWith('\'') ? 3 : 2)).TrimEnd(':')));
    }

    [Fact]
    public void A_random_sweep_without_run_cap_draws_the_documented_default()
    {
        var (spec, _) = Load("nested-random.yaml");
        Assert.Equal(SweepFile.DefaultRunCap, spec.RunCap);
        Assert.Equal(SweepFile.DefaultRunCap, SweepExpander.Expand(spec).Count);
    }

    [Fact]
    public void Nested_parameter_blocks_are_read_as_flat_trainer_options()
    {
        var (spec, _) = Load("nested-random.yaml");
        Assert.Equal(["lr", "weight_decay", "grad_clip", "rank", "alpha", "dropout", "bias", "init", "batch_size", "warmup_steps", "epochs", "max_steps"],
            spec.Parameters.Select(p => p.Key));
        Assert.Equal("\"gaussian\"", Assert.IsType<FixedParameter>(spec.Parameters.Single(p => p.Key == "init").Value).Value.ToJsonString());
    }

    [Fact]
    public void Every_wandb_distribution_draws_values_inside_its_bounds_and_the_options_rules()
    {
        var (spec, _) = Load("nested-random.yaml");
        var kinds = spec.Parameters.Select(p => p.Value).OfType<DistributionParameter>().Select(d => d.Kind).ToHashSet();
        Assert.Superset(new HashSet<DistributionKind>
        {
            DistributionKind.LogUniform, DistributionKind.InvLogUniformValues, DistributionKind.LogNormal, DistributionKind.QLogUniformValues,
            DistributionKind.QNormal, DistributionKind.Normal, DistributionKind.Categorical, DistributionKind.IntUniform, DistributionKind.QUniform,
            DistributionKind.QLogNormal,
        }, kinds);
        var trials = SweepExpander.Expand(spec);
        double Value(TrialPlan t, string key) => double.Parse(t.Parameters[key].ToString(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.All(trials, t =>
        {
            // log_uniform's bounds are exponents of e: exp(-9.2) ≈ 1.0e-4 to exp(-4.6) ≈ 1.0e-2.
            Assert.InRange(Value(t, "lr"), Math.Exp(-9.2) * 0.999, Math.Exp(-4.6) * 1.001);
            Assert.InRange(Value(t, "weight_decay"), 1e-4 * 0.999, 0.1 * 1.001);
            Assert.InRange(Value(t, "rank"), 4, 64);
            Assert.Equal(0, Value(t, "rank") % 4);
            Assert.Equal(0, Value(t, "alpha") % 2);
            Assert.InRange(Value(t, "dropout"), 0, 0.999);
            Assert.InRange(Value(t, "batch_size"), 32, 128);
            Assert.Equal(0, Value(t, "warmup_steps") % 2);
        });
        // probabilities [0.8, 0.2]: 'none' is drawn far more often than 'all'.
        var none = trials.Count(t => t.Parameters["bias"].ToString() == "none");
        Assert.InRange(none, 65, 95);
    }

    [Fact]
    public void Hyperband_takes_wandbs_min_iter_and_s_without_max_iter()
    {
        var (spec, _) = Load("lora-hf-bayes.yaml");
        Assert.Equal(new HyperbandSpec(1, 9, 3, 2), spec.EarlyTerminate);
    }

    [Fact]
    public void Yaml_1_1_numbers_and_standard_tags_are_numbers_a_scalar_values_is_one_value_and_goal_defaults_to_minimize()
    {
        var (spec, _) = Load("grid-yaml11.yaml");
        Assert.Equal(["0.0001", "0.0003", "0.001"], Assert.IsType<ValuesParameter>(spec.Parameters[0].Value).Values.Select(v => v.ToJsonString()));
        Assert.Equal(["8"], Assert.IsType<ValuesParameter>(spec.Parameters[1].Value).Values.Select(v => v.ToJsonString()));
        Assert.Equal("16", Assert.IsType<FixedParameter>(spec.Parameters[2].Value).Value.ToJsonString());
        Assert.Equal(new MetricSpec("test_loss", MetricGoal.Minimize), spec.Metric);
        Assert.Equal(("my-grid", "My Grid"), (spec.Name, spec.DisplayName));
        Assert.Equal(3, SweepExpander.Expand(spec).Count);
    }

    [Fact]
    public void Min_and_max_without_a_distribution_infer_int_uniform_for_integers_and_uniform_otherwise()
    {
        var (spec, _) = Load("lora-hf-bayes.yaml");
        Assert.Equal(DistributionKind.Uniform, Assert.IsType<DistributionParameter>(spec.Parameters.Single(p => p.Key == "weight_decay").Value).Kind);
        Assert.Equal(DistributionKind.IntUniform, Assert.IsType<DistributionParameter>(spec.Parameters.Single(p => p.Key == "max_steps").Value).Kind);
    }

    [Fact]
    public void A_file_without_task_says_how_to_add_one()
    {
        var e = Invalid("""
            method: random
            metric: { name: test_accuracy, goal: maximize }
            parameters:
              lr: { min: 0.0001, max: 0.1 }
            """);
        var problem = Assert.Single(e.Problems);
        Assert.StartsWith("missing key 'task': name what every trial trains, e.g. task: { model: mlp, dataset: mnist }", problem.Message);
    }

    [Fact]
    public void An_unknown_parameter_stays_an_error_with_a_did_you_mean()
    {
        var e = Invalid("""
            task: { model: mlp, dataset: mnist }
            parameters:
              lora_dropuot: { value: 0.1 }
            """);
        Assert.Equal("unknown parameter 'lora_dropuot' (did you mean 'dropout'?)", Assert.Single(e.Problems).Message);
    }

    [Fact]
    public void Bayes_sweeps_plan_no_trial_up_front_and_their_space_is_the_files()
    {
        var (spec, _) = Load("lora-hf-bayes.yaml");
        Assert.Equal(SweepMethod.Bayes, spec.Method);
        Assert.Empty(SweepExpander.Expand(spec));
        var space = SearchSpace.Of(spec);
        Assert.Equal(DimensionKind.Ordinal, space.Dimensions.Single(d => d.Name == "rank").Kind);
        Assert.Equal(DimensionKind.Categorical, space.Dimensions.Single(d => d.Name == "schedule").Kind);
        var lr = space.Dimensions.Single(d => d.Name == "lr");
        Assert.True(lr.Log);
        Assert.Equal((Math.Log(1e-5), Math.Log(1e-2)), (lr.Low, lr.High));
    }

    [Fact]
    public void A_multi_objective_metrics_list_ranks_by_its_first_and_keeps_every_objective()
    {
        var spec = Parse("""
            name: pareto
            task: { model: mlp, dataset: mnist }
            metrics:
              - { name: test_accuracy, goal: maximize }
              - { name: trainable_params, goal: minimize }
            parameters:
              rank: { values: [1, 4] }
            """);
        Assert.Equal(new MetricSpec("test_accuracy", MetricGoal.Maximize), spec.Metric);
        Assert.Equal([new MetricSpec("test_accuracy", MetricGoal.Maximize), new MetricSpec("trainable_params", MetricGoal.Minimize)], spec.Objectives);
        Assert.NotEqual(CanonicalSpec.Of(spec).Hash, CanonicalSpec.Of(spec with { Objectives = [spec.Metric] }).Hash);
    }

    [Fact]
    public void Peak_memory_is_an_objective_every_trial_has_now_that_trials_measure_it()
    {
        var spec = Parse("""
            name: pareto
            task: { model: mlp, dataset: mnist }
            metrics:
              - { name: test_accuracy, goal: maximize }
              - { name: peak_memory_bytes, goal: minimize }
            parameters:
              rank: { values: [1, 4] }
            """);
        Assert.Equal([new MetricSpec("test_accuracy", MetricGoal.Maximize), new MetricSpec("peak_memory_bytes", MetricGoal.Minimize)], spec.Objectives);
    }

    [Fact]
    public void Random_draws_of_the_uniform_family_are_unchanged_by_the_search_space()
    {
        // The ids of random sweeps written before the search space existed: the same seed draws the same values.
        var spec = Parse("""
            name: same-draws
            seed: 7
            task: { model: mlp, dataset: mnist }
            metric: { name: test_accuracy, goal: maximize }
            method: random
            run_cap: 3
            parameters:
              lr: { distribution: log_uniform_values, min: 0.0001, max: 0.01 }
              rank: { distribution: int_uniform, min: 1, max: 16 }
              dropout: { distribution: q_uniform, min: 0, max: 0.5, q: 0.1 }
              bias: { distribution: categorical, values: [none, all] }
            """);
        var rng = new SplitMix64(7UL ^ 0x5EED_5EED_5EED_5EEDUL);
        foreach (var trial in SweepExpander.Expand(spec))
        {
            double u = rng.NextDouble();
            var lr = double.Parse(Math.Exp(Math.Log(1e-4) + u * (Math.Log(1e-2) - Math.Log(1e-4))).ToString("G8", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
            long rank = 1 + (long)rng.NextBelow(16);
            double dropout = double.Parse((Math.Round(rng.NextDouble() * 0.5 / 0.1, MidpointRounding.AwayFromZero) * 0.1).ToString("G8", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
            var bias = new[] { "none", "all" }[rng.NextBelow(2)];
            Assert.Equal(JsonValue.Create(lr).ToJsonString(), trial.Parameters["lr"].ToString() is var s ? JsonValue.Create(double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToJsonString() : "");
            Assert.Equal(rank.ToString(System.Globalization.CultureInfo.InvariantCulture), trial.Parameters["rank"].ToString());
            Assert.Equal(dropout, double.Parse(trial.Parameters["dropout"].ToString(), System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(bias, trial.Parameters["bias"].ToString());
        }
    }
}
