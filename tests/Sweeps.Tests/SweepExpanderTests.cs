using Orchestrator.Contracts.Trials;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Sweeps.Tests;

public class SweepExpanderTests
{
    private static SweepSpec Parse(string yaml) => SweepFile.Parse(yaml, "t.yaml");

    private const string Grid = """
        name: grid
        seed: 9
        task: { model: mlp, dataset: mnist }
        metric: { name: test_accuracy, goal: maximize }
        parameters:
          rank: { values: [4, 8, 16] }
          alpha: { values: [16, 32] }
          target_modules: { value: [l1, l2] }
          lr: { value: 2.0e-4 }
        """;

    [Fact]
    public void Grid_is_the_cartesian_product_in_file_order_first_parameter_slowest()
    {
        var trials = SweepExpander.Expand(Parse(Grid));
        Assert.Equal(["4/16", "4/32", "8/16", "8/32", "16/16", "16/32"], trials.Select(t => t.Parameters["rank"].ToString() + "/" + t.Parameters["alpha"].ToString()));
        Assert.All(trials, t => Assert.Equal(TrialKind.Lora, t.Kind));
        Assert.All(trials, t => Assert.Equal("0.0002", t.Parameters["lr"].ToString()));
        Assert.All(trials, t => Assert.Equal("[l1,l2]", t.Parameters["target_modules"].ToString()));
    }

    [Fact]
    public void A_spec_under_another_source_name_keeps_its_expansion()
    {
        var spec = Parse(Grid);
        Assert.Equal("t.yaml", spec.SourceName);
        Assert.Contains("name: grid", spec.SourceText);
        var renamed = SweepExpander.WithSourceName(spec, "grid.yaml");
        Assert.Equal(spec with { SourceName = "grid.yaml" }, renamed);
        Assert.Same(SweepExpander.Expand(spec), SweepExpander.Expand(renamed));
    }

    [Fact]
    public void Alpha_per_rank_keeps_the_scaling_alpha_over_r_constant_across_ranks()
    {
        var trials = SweepExpander.Expand(Parse(Grid.Replace("alpha: { values: [16, 32] }", "alpha: { per_rank: 2 }")));
        Assert.Equal([8.0, 16.0, 32.0], trials.Select(t => t.Config.Alpha));
        Assert.All(trials, t => Assert.Equal(2.0, t.Config.Alpha / t.Config.Rank));
        Assert.Equal(["8", "16", "32"], trials.Select(t => t.Parameters["alpha"].ToString()));
    }

    [Theory]
    [InlineData("lr: { per_rank: 1 }", "per_rank only applies to alpha")]
    [InlineData("alpha: { per_rank: 0 }", "alpha per_rank must be a finite number > 0")]
    [InlineData("alpha: { per_rank: .nan }", "alpha per_rank must be a finite number > 0")]
    public void Per_rank_is_checked(string line, string expected)
    {
        var yaml = Grid.Replace("alpha: { values: [16, 32] }", line.StartsWith("lr") ? "alpha: { value: 8 }" : line);
        if (line.StartsWith("lr")) yaml = yaml.Replace("lr: { value: 2.0e-4 }", line);
        var e = Assert.Throws<SweepValidationException>(() => Parse(yaml));
        Assert.Contains(e.Problems, p => p.Message.Contains(expected) && p.Line > 1 && p.Column >= 1);
    }

    [Fact]
    public void Config_carries_the_task_and_every_parameter()
    {
        var t = SweepExpander.Expand(Parse(Grid))[3];
        Assert.Equal(("mlp", "mnist", AdapterKind.Lora, 8, 32.0, 2e-4), (t.Config.Model, t.Config.Dataset, t.Config.Adapter, t.Config.Rank, t.Config.Alpha, t.Config.LearningRate));
        Assert.Equal(["l1", "l2"], t.Config.TargetModules);
        Assert.Equal(new TrainingConfig().BatchSize, t.Config.BatchSize);
    }

    [Fact]
    public void Trial_ids_are_t_plus_12_hex_and_stable()
    {
        var a = SweepExpander.Expand(Parse(Grid));
        var b = SweepExpander.Expand(Parse(Grid.Replace("seed: 9", "seed: 10")));
        Assert.All(a, t => Assert.Matches("^t[0-9a-f]{12}$", t.TrialId));
        Assert.Equal(a.Select(t => t.TrialId), SweepExpander.Expand(Parse(Grid)).Select(t => t.TrialId));
        Assert.Equal(a.Select(t => t.Config.Seed), SweepExpander.Expand(Parse(Grid)).Select(t => t.Config.Seed));
        Assert.Equal(a.Select(t => t.TrialId), b.Select(t => t.TrialId)); // the id depends on name and parameters only
        Assert.NotEqual(a.Select(t => t.Config.Seed), b.Select(t => t.Config.Seed)); // seeds follow the master seed
        Assert.Equal(a.Count, a.Select(t => t.Config.Seed).Distinct().Count());
        Assert.NotEqual(a.Select(t => t.TrialId), SweepExpander.Expand(Parse(Grid.Replace("name: grid", "name: grid-2"))).Select(t => t.TrialId));
    }

    [Fact]
    public void Parameters_keep_file_order_and_reordering_the_file_keeps_the_ids()
    {
        var a = SweepExpander.Expand(Parse(Grid));
        var reordered = Grid.Replace("  rank: { values: [4, 8, 16] }\n", "").Replace("  lr: { value: 2.0e-4 }", "  lr: { value: 2.0e-4 }\n  rank: { values: [4, 8, 16] }");
        var b = SweepExpander.Expand(Parse(reordered));
        Assert.Equal(["rank", "alpha", "target_modules", "lr"], a[0].Parameters.Keys);
        Assert.Equal(["alpha", "target_modules", "lr", "rank"], b[0].Parameters.Keys);
        Assert.Equal(a.Select(t => t.TrialId).Order(), b.Select(t => t.TrialId).Order());
    }

    [Fact]
    public void Run_cap_keeps_the_first_trials_so_raising_it_only_appends()
    {
        var all = SweepExpander.Expand(Parse(Grid));
        var four = SweepExpander.Expand(Parse(Grid + "\nrun_cap: 4\n"));
        Assert.Equal(all.Take(4).Select(t => t.TrialId), four.Select(t => t.TrialId));
    }

    [Fact]
    public void Duplicate_values_give_one_trial()
    {
        var trials = SweepExpander.Expand(Parse(Grid.Replace("[4, 8, 16]", "[4, 4, 8]")));
        Assert.Equal(4, trials.Count);
    }

    [Fact]
    public void Seed_parameter_is_a_repeat_index_and_baselines_follow_the_non_lora_parameters()
    {
        var trials = SweepExpander.Expand(Parse("""
            name: baselines
            seed: 1
            task: { model: mlp, dataset: mnist }
            metric: { name: test_accuracy, goal: maximize }
            baselines: [full, base]
            parameters:
              rank: { values: [1, 2, 4] }
              alpha: { value: 1 }
              lr: { values: [1.0e-3, 1.0e-4] }
              seed: { values: [0, 1] }
            """));
        Assert.Equal(12, trials.Count(t => t.Kind == TrialKind.Lora));
        var full = trials.Where(t => t.Kind == TrialKind.Full).ToList();
        Assert.Equal(4, full.Count); // 2 lr x 2 seeds; rank and alpha dropped
        Assert.All(full, t => Assert.Equal(["lr", "seed"], t.Parameters.Keys.Order()));
        Assert.All(full, t => Assert.Equal(AdapterKind.Full, t.Config.Adapter));
        var bases = trials.Where(t => t.Kind == TrialKind.Base).ToList();
        Assert.Equal(["0", "1"], bases.Select(t => t.Parameters["seed"].ToString()));
        Assert.All(bases, t => Assert.Equal(AdapterKind.Base, t.Config.Adapter));
        Assert.Equal(trials.Count, trials.Select(t => t.TrialId).Distinct().Count());
        Assert.DoesNotContain(trials, t => t.Config.Seed is 0 or 1); // the trainer seed is derived, not the repeat index
    }

    [Fact]
    public void A_list_option_given_one_plain_name_as_its_value_is_that_one_entry_list_as_in_values()
    {
        static string Sweep(string targets) => $$"""
            name: one-name
            task: { model: transformer-block, dataset: synthetic-regression }
            metric: { name: test_mse, goal: minimize }
            parameters:
              target_modules: {{targets}}
            """;
        var plain = Assert.Single(SweepExpander.Expand(Parse(Sweep("{ value: all-linear }"))));
        var listed = Assert.Single(SweepExpander.Expand(Parse(Sweep("{ value: [all-linear] }"))));
        Assert.Equal(["all-linear"], plain.Config.TargetModules);
        Assert.Equal(listed.TrialId, plain.TrialId);
        Assert.Equal(["q_proj"], Assert.Single(SweepExpander.Expand(Parse(Sweep("{ value: q_proj }")))).Config.TargetModules);
    }

    private const string Random = """
        name: random
        seed: 123
        task: { model: transformer-block, dataset: synthetic-regression }
        metric: { name: test_mse, goal: minimize }
        method: random
        run_cap: 50
        parameters:
          rank: { distribution: int_uniform, min: 1, max: 64 }
          lr: { distribution: log_uniform_values, min: 1.0e-5, max: 1.0e-2 }
          dropout: { distribution: uniform, min: 0, max: 0.5 }
          weight_decay: { distribution: q_uniform, min: 0, max: 0.1, q: 0.01 }
          target_modules: { distribution: categorical, values: [[q_proj, v_proj], all-linear] }
          use_rslora: { values: [true, false] }
        """;

    [Fact]
    public void Random_draws_run_cap_samples_within_their_ranges_reproducibly()
    {
        var a = SweepExpander.Expand(Parse(Random));
        var b = SweepExpander.Expand(Parse(Random));
        Assert.Equal(50, a.Count);
        Assert.Equal(a.Select(t => string.Join(";", t.Parameters)), b.Select(t => string.Join(";", t.Parameters)));
        Assert.All(a, t =>
        {
            Assert.InRange(t.Config.Rank, 1, 64);
            Assert.InRange(t.Config.LearningRate, 1e-5, 1e-2);
            Assert.InRange(t.Config.Dropout, 0, 0.5);
            Assert.Equal(Math.Round(t.Config.WeightDecay, 2), t.Config.WeightDecay);
        });
        Assert.True(a.Select(t => t.Config.Rank).Distinct().Count() > 10);
        var other = SweepExpander.Expand(Parse(Random.Replace("seed: 123", "seed: 124")));
        Assert.NotEqual(a.Select(t => t.TrialId), other.Select(t => t.TrialId));
    }

    [Fact]
    public void Random_draws_are_pinned_across_platforms()
    {
        // SplitMix64 is specified bit for bit; these values must never change (they would reshuffle every random sweep).
        var rng = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, rng.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, rng.NextUInt64());
        var first = SweepExpander.Expand(Parse(Random))[0];
        Assert.Equal(first.Parameters, SweepExpander.Expand(Parse(Random))[0].Parameters);
    }

    [Fact]
    public void Random_duplicates_are_removed()
    {
        var trials = SweepExpander.Expand(Parse("""
            name: few
            task: { model: mlp, dataset: mnist }
            metric: { name: test_accuracy, goal: maximize }
            method: random
            run_cap: 100
            parameters:
              rank: { values: [1, 2, 3] }
            """));
        Assert.Equal(3, trials.Count);
    }
    [Fact]
    public void A_frozen_encoder_baseline_trains_its_probe_like_the_other_trials_while_a_frozen_mlp_only_keeps_its_repeat()
    {
        const string encoder = """
            name: probe
            seed: 3
            task: { model: minilm-l6, dataset: imdb }
            metric: { name: test_accuracy, goal: maximize }
            baselines: [full, base]
            parameters:
              rank: { values: [4, 8] }
              lr: { value: 1.0e-3 }
              seq_len: { value: 96 }
              max_train_samples: { value: 500 }
              seed: { values: [0, 1] }
            """;
        var probe = SweepExpander.Expand(Parse(encoder)).Where(t => t.Kind == TrialKind.Base).ToList();
        Assert.Equal(2, probe.Count); // one per repeat: the LoRA-only rank does not multiply it
        Assert.All(probe, t => Assert.Equal((1e-3, 96, 500), (t.Config.LearningRate, t.Config.SequenceLength, t.Config.MaxTrainSamples)));
        Assert.All(probe, t => Assert.False(t.Parameters.ContainsKey("rank")));

        var mlp = SweepExpander.Expand(Parse(Grid.Replace("lr: { value: 2.0e-4 }", "lr: { value: 2.0e-4 }\n  seed: { values: [0, 1] }") + "\nbaselines: [base]\n"))
            .Where(t => t.Kind == TrialKind.Base).ToList();
        Assert.Equal(2, mlp.Count);
        Assert.All(mlp, t => Assert.Equal(["seed"], t.Parameters.Keys));
    }
}
