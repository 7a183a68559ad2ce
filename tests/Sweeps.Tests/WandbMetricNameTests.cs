using Orchestrator.Trials.Metrics;

namespace Orchestrator.Sweeps.Tests;

/// <summary>Metric names of Hugging Face and W&amp;B programs, read through the one table (<see cref="MetricAliases"/>) with a warning.</summary>
public class WandbMetricNameTests
{
    private const string Mnist = "{ model: mlp, dataset: mnist }";
    private const string Imdb = "{ model: minilm-l6, dataset: imdb }";

    private static (SweepSpec Spec, IReadOnlyList<SweepProblem> Warnings) Parse(string task, string metric, string extra = "")
    {
        var spec = SweepFile.Parse($"""
            name: hf-metrics
            task: {task}
            {metric}
            method: grid
            parameters:
              rank: {"{"} values: [4, 8] {"}"}
            {extra}
            """, "hf.yaml", out var warnings);
        return (spec, warnings);
    }

    [Theory]
    [InlineData("eval/loss", "val_loss")]
    [InlineData("eval_loss", "val_loss")]
    [InlineData("validation_loss", "val_loss")]
    [InlineData("eval_accuracy", "val_accuracy")]
    [InlineData("eval/accuracy", "val_accuracy")]
    [InlineData("val_acc", "val_accuracy")]
    [InlineData("eval_macro_f1", "val_macro_f1")]
    [InlineData("train/loss", "train_loss")]
    [InlineData("test/accuracy", "test_accuracy")]
    public void Text_classification_reads_eval_names_as_its_validation_metrics(string written, string read)
    {
        var (spec, warnings) = Parse(Imdb, $"metric: {{ name: {written}, goal: minimize }}");
        Assert.Equal(read, spec.Metric.Name);
        var warning = Assert.Single(warnings, w => w.Message.Contains("is read as", StringComparison.Ordinal));
        Assert.Equal((3, 17), (warning.Line, warning.Column));
        Assert.StartsWith($"metric '{written}' is read as '{read}' (", warning.Message);
    }

    [Theory]
    [InlineData("eval_loss", "test_loss")]
    [InlineData("eval/loss", "test_loss")]
    [InlineData("val_loss", "test_loss")]
    [InlineData("eval_accuracy", "test_accuracy")]
    [InlineData("eval/accuracy", "test_accuracy")]
    [InlineData("Eval/Accuracy", "test_accuracy")]
    public void A_task_without_a_validation_split_reads_eval_names_as_test_metrics_and_says_so(string written, string read)
    {
        var (spec, warnings) = Parse(Mnist, $"metric: {{ name: {written}, goal: maximize }}");
        Assert.Equal(read, spec.Metric.Name);
        Assert.Equal($"metric '{written}' is read as '{read}' (the test split's: image classification has no validation split, so every evaluation during training scores the test split)",
            Assert.Single(warnings).Message);
    }

    [Theory]
    [InlineData("val_loss")]
    [InlineData("train_loss")]
    [InlineData("val_accuracy")]
    public void Our_own_names_are_read_as_written_without_a_warning(string name)
    {
        var (spec, warnings) = Parse(Imdb, $"metric: {{ name: {name}, goal: minimize }}");
        Assert.Equal(name, spec.Metric.Name);
        Assert.Empty(warnings);
    }

    [Fact]
    public void Every_objective_and_early_termination_read_the_mapped_name()
    {
        var (spec, warnings) = Parse(Mnist, "metrics:\n  - { name: eval/accuracy, goal: maximize }\n  - { name: train/loss, goal: minimize }",
            "early_terminate: { type: hyperband, min_iter: 1 }");
        Assert.Equal(["test_accuracy", "train_loss"], spec.Objectives.Select(o => o.Name));
        Assert.Equal("test_accuracy", spec.Metric.Name);
        Assert.Equal(2, warnings.Count(w => w.Message.Contains("is read as", StringComparison.Ordinal)));
    }

    [Fact]
    public void Two_names_read_as_one_metric_are_refused()
    {
        var error = Assert.Throws<SweepValidationException>(() => Parse(Mnist, "metrics:\n  - { name: eval_loss }\n  - { name: val_loss }"));
        Assert.Contains("metric 'val_loss' is read as 'test_loss', which is listed already", Assert.Single(error.Problems).Message);
    }

    [Fact]
    public void An_eval_name_the_task_does_not_measure_stays_an_unknown_metric_with_what_the_task_reports()
    {
        var error = Assert.Throws<SweepValidationException>(() => Parse("{ model: transformer-block, dataset: synthetic-regression }", "metric: { name: eval_accuracy, goal: maximize }"));
        Assert.StartsWith("unknown metric 'eval_accuracy': lora trials of transformer-block on synthetic-regression report train_loss, test_loss, test_mse",
            Assert.Single(error.Problems).Message);
    }

    [Theory]
    [InlineData("loss")]
    [InlineData("accuracy")]
    public void A_bare_measure_is_not_read_since_programs_log_the_training_loss_as_loss(string written)
    {
        Assert.Null(MetricAliases.Resolve(written, TaskKind.Classification));
        var error = Assert.Throws<SweepValidationException>(() => Parse(Mnist, $"metric: {{ name: {written} }}"));
        Assert.EndsWith($"(did you mean 'test_{written}'?)", Assert.Single(error.Problems).Message);
    }

    [Fact]
    public void A_task_only_loading_tells_reads_eval_names_as_test_metrics() =>
        Assert.Equal(new MetricAlias("eval_loss", "test_loss", "the test split's: the task is only known once its dataset loads, and every task reports test metrics"),
            MetricAliases.Resolve("eval_loss", null));
}
