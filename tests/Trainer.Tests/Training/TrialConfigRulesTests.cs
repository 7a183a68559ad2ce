using System.Text.Json;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

/// <summary>What a trial does with the defaults and rules of <see cref="TrainingOptions"/>, and the metrics it reports.</summary>
public sealed class TrialConfigRulesTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private TrainingRequest Request(string name, TrainingConfig config) =>
        new(config, new BaseModelSpec(), _workspace.Sub(name), _workspace.Sub("bases"));

    private static IReadOnlyList<string> AdapterTargets(string trialDirectory)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(trialDirectory, TrialTrainer.AdapterFolder, PeftAdapterConfig.FileName)));
        return document.RootElement.GetProperty("target_modules").EnumerateArray().Select(e => e.GetString()!).ToList();
    }

    [Fact]
    public void An_mlp_trial_without_target_modules_trains_lora_on_l1_l2_l3_and_reports_the_catalogs_metrics()
    {
        var config = new TrainingConfig { Model = "mlp", Dataset = "mnist", Rank = 4, BatchSize = 64, MaxSteps = 3, Seed = 2 };

        var outcome = TrialTrainer.Run(Request("default-targets", config), null, CancellationToken.None);

        Assert.Equal(["l1", "l2", "l3"], AdapterTargets(_workspace.Sub("default-targets")));
        Assert.Equal(4 * (784 + 64) + 4 * (64 + 64) + 4 * (64 + 10), outcome.TrainableParameters);
        Assert.Equal(3, outcome.Steps);
        Assert.Equal(MetricNames.ReportedBy("mnist", AdapterKind.Lora)!.Order(), outcome.Metrics.Keys.Order());
    }

    [Fact]
    public void A_transformer_block_trial_without_targets_trains_q_and_v_and_reports_test_mse_as_the_catalog_says()
    {
        var config = new TrainingConfig { Model = "transformer-block", Dataset = "synthetic-regression", Rank = 8, BatchSize = 10, MaxSteps = 2, Seed = 3 };

        var outcome = TrialTrainer.Run(Request("block", config), null, CancellationToken.None);

        Assert.Equal(["q_proj", "v_proj"], AdapterTargets(_workspace.Sub("block")));
        Assert.Equal(8192, outcome.TrainableParameters); // rank 8 on q and v of a 256-wide block
        Assert.Equal(MetricNames.ReportedBy("synthetic-regression", AdapterKind.Lora)!.Order(), outcome.Metrics.Keys.Order());
        Assert.DoesNotContain(MetricNames.TestAccuracy, outcome.Metrics.Keys);
    }

    [Fact]
    public void A_base_trial_reports_no_train_loss_as_the_catalog_says()
    {
        var config = new TrainingConfig { Model = "transformer-block", Dataset = "synthetic-regression", Adapter = AdapterKind.Base, BatchSize = 10, MaxSteps = 2 };

        var outcome = TrialTrainer.Run(Request("base", config), null, CancellationToken.None);

        Assert.Equal(MetricNames.ReportedBy("synthetic-regression", AdapterKind.Base)!.Order(), outcome.Metrics.Keys.Order());
        Assert.DoesNotContain(MetricNames.TrainLoss, MetricNames.ReportedBy("synthetic-regression", AdapterKind.Base)!);
    }

    [Fact]
    public void An_unknown_target_is_refused_as_invalid_config_before_anything_is_written()
    {
        var config = new TrainingConfig { Model = "mlp", Dataset = "mnist", TargetModules = ["fc1"], MaxSteps = 3 };

        var e = Assert.Throws<InvalidTrainingConfigException>(() => TrialTrainer.Run(Request("unknown-target", config), null, CancellationToken.None));

        Assert.Contains("unknown target module 'fc1' for model mlp", e.Message);
        Assert.False(Directory.Exists(_workspace.Sub("unknown-target")), "nothing is written for a config that cannot train");
    }

    [Fact]
    public void A_config_the_sweep_would_refuse_is_refused_by_the_trainer_too()
    {
        var config = new TrainingConfig { Model = "mlp", Dataset = "mnist", Epochs = 0 };
        var e = Assert.Throws<InvalidTrainingConfigException>(() => TrialTrainer.Run(Request("nothing", config), null, CancellationToken.None));
        Assert.Equal("epochs", Assert.Single(e.Problems).Key);
    }
}
