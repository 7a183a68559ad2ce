using System.Text.Json.Nodes;

namespace Orchestrator.Sweeps.Tests;

/// <summary>The Hugging Face TrainingArguments names W&amp;B sweep files sweep: each is a trainer option.</summary>
public class WandbTrainingArgumentsTests
{
    private static SweepSpec Parse(string parameters) => SweepFile.Parse($"""
        name: hf-args
        task: {"{"} model: transformer-block, dataset: synthetic-regression {"}"}
        metric: {"{"} name: test_loss, goal: minimize {"}"}
        method: grid
        parameters:
        {parameters}
        """, "hf.yaml");

    [Fact]
    public void Gradient_accumulation_steps_is_a_sweepable_option_that_reaches_every_trials_config()
    {
        var trials = SweepExpander.Expand(Parse("  gradient_accumulation_steps: { values: [1, 2, 4] }\n  per_device_train_batch_size: { value: 16 }"));
        Assert.Equal([1, 2, 4], trials.Select(t => t.Config.GradientAccumulationSteps));
        Assert.All(trials, t => Assert.Equal(16, t.Config.BatchSize));
        Assert.Equal(["1", "2", "4"], trials.Select(t => t.Parameters["gradient_accumulation_steps"].ToString()));
    }

    [Fact]
    public void Gradient_accumulation_steps_below_1_is_refused_where_it_is_written()
    {
        var error = Assert.Throws<SweepValidationException>(() => Parse("  gradient_accumulation_steps: { value: 0 }"));
        var problem = Assert.Single(error.Problems);
        Assert.Equal((6, 41), (problem.Line, problem.Column)); // at the 0
        Assert.Contains("gradient_accumulation_steps must be an integer ≥ 1, got 0", problem.Message);
    }

    [Theory]
    [InlineData("max_seq_length")]
    [InlineData("max_length")]
    public void Max_seq_length_and_max_length_are_seq_len(string name)
    {
        var spec = Parse($"  {name}: {{ values: [32, 48] }}");
        Assert.Equal("seq_len", Assert.Single(spec.Parameters).Key);
        Assert.Equal([32, 48], SweepExpander.Expand(spec).Select(t => t.Config.SequenceLength));
    }

    [Fact]
    public void Seq_len_given_twice_under_two_names_is_refused()
    {
        var error = Assert.Throws<SweepValidationException>(() => Parse("  seq_len: { value: 32 }\n  max_seq_length: { value: 48 }"));
        Assert.Contains(error.Problems, p => p.Message.Contains("given twice", StringComparison.Ordinal) && p.Message.Contains("(as seq_len)", StringComparison.Ordinal));
    }
}

public class WandbHuggingFaceTrainerFileTests
{
    [Fact]
    public void A_Trainer_sweep_with_accumulation_a_bounded_grid_hyperband_and_eval_loss_validates_as_W_and_B_reads_it()
    {
        var spec = SweepFile.Load(Path.Combine(RepositoryPaths.MalformedCorpus, "..", "wandb", "hf-trainer-grid.yaml"), out var warnings);
        var trials = SweepExpander.Expand(spec);

        Assert.Equal(3 * 2 * 2, trials.Count);
        Assert.Equal([1, 2, 4], trials.Select(t => t.Config.GradientAccumulationSteps).Distinct());
        Assert.Equal([0.0, 0.1], trials.Select(t => t.Config.Dropout).Distinct());
        Assert.All(trials, t => Assert.Equal((8, 16), (t.Config.BatchSize, t.Config.SequenceLength)));
        Assert.Equal("test_loss", spec.Metric.Name);
        Assert.Equal(new HyperbandSpec(2, SweepFile.MaxIterLimit, 3, 1), spec.EarlyTerminate);
        Assert.Contains(warnings, w => w.Message.StartsWith("metric 'eval/loss' is read as 'test_loss' (the test split's: regression has no validation split", StringComparison.Ordinal));
    }
}

public class GradientAccumulationPackTests
{
    [Fact]
    public void A_packed_sweep_warns_that_its_accumulating_trials_train_alone()
    {
        SweepFile.Parse("""
            name: acc-pack
            task: { model: mlp, dataset: mnist }
            metric: { name: test_accuracy, goal: maximize }
            method: grid
            pack: auto
            parameters:
              gradient_accumulation_steps: { values: [1, 2] }
              rank: { values: [4, 8] }
            """, "p.yaml", out var warnings);
        var warning = Assert.Single(warnings);
        Assert.Equal((5, 7), (warning.Line, warning.Column));
        Assert.Equal("pack: 2 of 4 trials have gradient_accumulation_steps > 1 and train alone (a pack steps its members once per micro-batch)", warning.Message);
    }
}
