using Orchestrator.Trainer.Training;
using System.Globalization;
using System.Text.Json;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Sweeps.Tests;

/// <summary>Sweep validation reads the trainer's rule table and metric catalog: what a sweep accepts, a trial can train and score.</summary>
public sealed class TrainerRulesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sweep-rules-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static string Sweep(string parameters, string task = "{ model: mlp, dataset: mnist }", string metric = "test_accuracy", string extra = "") => $$"""
        name: rules
        task: {{task}}
        metric: { name: {{metric}}, goal: maximize }
        {{extra}}
        parameters:
        {{parameters}}
        """;

    private static SweepValidationException Invalid(string yaml) =>
        Assert.Throws<SweepValidationException>(() => SweepFile.Parse(yaml, "r.yaml"));

    public static TheoryData<string> IntegerKeys() =>
        [.. TrainerParameters.All.Values.Where(o => o.Kind == OptionKind.Int).Select(o => o.Key)];

    [Theory]
    [MemberData(nameof(IntegerKeys))]
    public void Each_integer_parameter_is_bounded_by_the_trainer_rule_table(string key)
    {
        var rule = TrainingOptions.Get(key);
        // max_steps keeps epochs 0 trainable; nothing else here may depend on it.
        var steps = key is "epochs" ? "\n  max_steps: { value: 5 }" : "";
        var e = Invalid(Sweep($"  {key}: {{ value: {rule.MinInt - 1} }}{steps}"));
        Assert.Contains($"{key} must be an integer ≥ {rule.MinInt}, got {rule.MinInt - 1}", Assert.Single(e.Problems).Message);

        var spec = SweepFile.Parse(Sweep($"  {key}: {{ value: {rule.MinInt} }}{steps}"), "r.yaml");
        Assert.Equal(rule.MinInt.ToString(CultureInfo.InvariantCulture), spec.Parameters[0].Value is FixedParameter f ? f.Value.ToJsonString() : null);
    }

    public static TheoryData<string> BoundedNumberKeys() =>
        [.. TrainerParameters.All.Values.Where(o => o is { Kind: OptionKind.Number, MinNumber: not null }).Select(o => o.Key)];

    [Theory]
    [MemberData(nameof(BoundedNumberKeys))]
    public void Each_number_parameter_is_bounded_by_the_trainer_rule_table(string key)
    {
        var rule = TrainingOptions.Get(key);
        var below = rule.MinExclusive ? rule.MinNumber!.Value : rule.MinNumber!.Value - 1;
        var e = Invalid(Sweep($"  {key}: {{ value: {below.ToString(CultureInfo.InvariantCulture)} }}"));
        Assert.Contains($"{key} must be {rule.Requirement}", Assert.Single(e.Problems).Message);
    }

    [Fact]
    public void A_sweep_trial_without_parameters_has_exactly_the_trainers_default_config()
    {
        var trial = Assert.Single(SweepExpander.Expand(SweepFile.Parse(Sweep(""), "r.yaml")));
        var expected = new TrainingConfig { Model = "mlp", Dataset = "mnist" };
        Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(trial.Config with { Seed = expected.Seed }));
        Assert.Equal(8, trial.Config.Alpha);
        Assert.Empty(trial.Config.TargetModules);
    }

    [Fact]
    public void Epochs_0_without_max_steps_is_refused_at_the_epochs_parameter_as_the_trainer_would()
    {
        var yaml = Sweep("  rank: { values: [4, 8] }\n  epochs: { value: 0 }");
        var problem = Assert.Single(Invalid(yaml).Problems);
        Assert.Equal((7, 3), (problem.Line, problem.Column));
        Assert.StartsWith("epochs 0 with max_steps 0 trains nothing; set one of them (in lora trial t", problem.Message);
    }

    [Fact]
    public void A_sweep_without_target_modules_on_mlp_expands_to_trials_that_train_lora_on_l1_l2_l3()
    {
        var spec = SweepFile.Parse(Sweep("  rank: { value: 2 }\n  max_steps: { value: 2 }\n  batch_size: { value: 32 }"), "r.yaml");
        var trial = Assert.Single(SweepExpander.Expand(spec));

        var outcome = TrialTrainer.Run(new TrainingRequest(trial.Config, new BaseModelSpec(), Path.Combine(_dir, trial.TrialId), Path.Combine(_dir, "bases")),
            null, CancellationToken.None);

        using var adapter = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, trial.TrialId, TrialTrainer.AdapterFolder, "adapter_config.json")));
        Assert.Equal(["l1", "l2", "l3"], adapter.RootElement.GetProperty("target_modules").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(2 * (784 + 64) + 2 * (64 + 64) + 2 * (64 + 10), outcome.TrainableParameters);
        Assert.Contains(spec.Metric.Name, outcome.Metrics.Keys);
    }

    [Fact]
    public void An_unknown_metric_is_refused_at_its_line_and_column_with_a_did_you_mean()
    {
        var problem = Assert.Single(Invalid(Sweep("  rank: { value: 4 }", metric: "test_acuracy")).Problems);
        Assert.Equal((3, 17), (problem.Line, problem.Column));
        Assert.Equal("unknown metric 'test_acuracy': lora trials of mlp on mnist report train_loss, test_loss, test_accuracy (did you mean 'test_accuracy'?)",
            problem.Message);
    }

    [Theory]
    [InlineData("accuracy", "test_accuracy")]
    [InlineData("loss", "test_loss")]
    [InlineData("acuracy", "test_accuracy")]
    public void A_metric_named_as_other_tools_do_suggests_the_trainers_name(string written, string suggested) =>
        Assert.EndsWith($"(did you mean '{suggested}'?)", Assert.Single(Invalid(Sweep("  rank: { value: 4 }", metric: written)).Problems).Message);

    [Fact]
    public void A_metric_another_task_reports_is_refused_with_what_this_task_reports()
    {
        var problem = Assert.Single(Invalid(Sweep("  rank: { value: 4 }", task: "{ model: transformer-block, dataset: synthetic-regression }")).Problems);
        Assert.Equal("unknown metric 'test_accuracy': lora trials of transformer-block on synthetic-regression report train_loss, test_loss, test_mse",
            problem.Message);
    }

    [Fact]
    public void A_metric_only_lora_trials_report_is_a_warning_when_a_base_baseline_runs()
    {
        var yaml = Sweep("  rank: { value: 4 }", metric: "train_loss", extra: "baselines: [base]");
        var spec = SweepFile.Parse(yaml, "r.yaml", out var warnings);

        Assert.Equal("train_loss", spec.Metric.Name);
        var warning = Assert.Single(warnings);
        Assert.Equal("r.yaml:3:17: metric 'train_loss' is not reported by base trials (only by lora); they will have no score", warning.ToString());
    }

    [Fact]
    public void A_metric_every_trial_reports_gives_no_warning()
    {
        SweepFile.Parse(Sweep("  rank: { value: 4 }", extra: "baselines: [full, base]"), "r.yaml", out var warnings);
        Assert.Empty(warnings);
    }

    [Fact]
    public void Every_metric_the_catalog_names_for_a_dataset_is_accepted()
    {
        foreach (var dataset in new[] { "mnist", "synthetic-regression", "text" })
            foreach (var metric in MetricNames.ReportedBy(dataset, AdapterKind.Lora)!)
                SweepFile.Parse(Sweep("  rank: { value: 4 }", task: $"{{ model: {(dataset == "text" ? "llama" : "mlp")}, dataset: {dataset} }}", metric: metric), "r.yaml");
    }
}
