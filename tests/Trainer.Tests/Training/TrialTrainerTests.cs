using System.Diagnostics;
using System.Text.Json;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

[Collection(AloneInProcess.Name)] // Native_memory_stays_flat_over_training_steps reads the process RSS
public sealed class TrialTrainerTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    // The mlp keeps the study's dropout 0.5, so these runs also exercise the torch generator's state.
    private static TrainingConfig Mlp(int maxSteps = 20) => new()
    {
        Model = "mlp", Dataset = "mnist", Rank = 4, Alpha = 4, TargetModules = ["l1", "l2", "l3"],
        BatchSize = 128, MaxSteps = maxSteps, EvalEvery = 5, Schedule = ScheduleKind.Cosine, WarmupSteps = 3, Seed = 11,
    };

    private TrainingRequest Request(string name, TrainingConfig config) =>
        new(config, new BaseModelSpec(), _workspace.Sub(name), _workspace.Sub("bases"));

    private static byte[] Adapter(string trialDirectory) =>
        File.ReadAllBytes(Path.Combine(trialDirectory, TrialTrainer.AdapterFolder, PeftAdapter.WeightsFileName));

    [Fact]
    public void Resuming_from_a_mid_run_checkpoint_ends_bitwise_identical_to_an_uninterrupted_run()
    {
        var whole = TrialTrainer.Run(Request("whole", Mlp()), null, CancellationToken.None);

        var interrupted = TrialTrainer.Run(Request("interrupted", Mlp()), new RecordingObserver { StopWhen = p => p.Step >= 10 }, CancellationToken.None);
        Assert.True(interrupted.StoppedEarly);
        Assert.Equal(10, interrupted.Steps);
        var resumeFrom = CheckpointDirectory.FindLatestValid(_workspace.Sub("interrupted"));
        Assert.Equal(CheckpointDirectory.PathOf(_workspace.Sub("interrupted"), 10), resumeFrom);

        var resumed = TrialTrainer.Run(Request("interrupted", Mlp()) with { ResumeFrom = resumeFrom }, null, CancellationToken.None);

        Assert.Equal(20, resumed.Steps);
        Assert.Equal(whole.Metrics, resumed.Metrics);
        Assert.Equal(Adapter(_workspace.Sub("whole")), Adapter(_workspace.Sub("interrupted")));
    }

    [Theory]
    [InlineData("mlp", "mnist")]
    [InlineData("transformer-block", "synthetic-regression")]
    public void The_same_config_and_seed_give_bitwise_identical_metrics_and_adapter_bytes(string model, string dataset)
    {
        var config = model == "mlp"
            ? Mlp(12)
            : new TrainingConfig { Model = model, Dataset = dataset, Rank = 8, Alpha = 16, TargetModules = ["q_proj", "v_proj"], BatchSize = 10, MaxSteps = 6, EvalEvery = 3, Seed = 5 };

        var first = TrialTrainer.Run(Request("first", config), null, CancellationToken.None);
        var second = TrialTrainer.Run(Request("second", config), null, CancellationToken.None);

        Assert.Equal(first.Metrics, second.Metrics);
        Assert.Equal(Adapter(_workspace.Sub("first")), Adapter(_workspace.Sub("second")));
        Assert.Equal(first.FileSha256["adapter/adapter_model.safetensors"], second.FileSha256["adapter/adapter_model.safetensors"]);
        var other = TrialTrainer.Run(Request("other-seed", config with { Seed = config.Seed + 1 }), null, CancellationToken.None);
        Assert.NotEqual(Adapter(_workspace.Sub("first")), Adapter(_workspace.Sub("other-seed")));
    }

    [Fact]
    public void Regression_on_the_synthetic_teacher_lowers_test_mse_with_lora_on_q_and_v()
    {
        var config = new TrainingConfig
        {
            Model = "transformer-block", Dataset = "synthetic-regression", Rank = 8, Alpha = 16, TargetModules = ["q_proj", "v_proj"],
            BatchSize = 10, MaxSteps = 10, LearningRate = 1e-3, Seed = 1,
        };
        var before = TrialTrainer.Run(Request("base", config with { Adapter = AdapterKind.Base }), null, CancellationToken.None);
        var after = TrialTrainer.Run(Request("lora", config), null, CancellationToken.None);

        Assert.Equal(8192, after.TrainableParameters);
        Assert.True(after.Metrics[MetricNames.TestMse] < before.Metrics[MetricNames.TestMse],
            $"test_mse {after.Metrics[MetricNames.TestMse]} after LoRA, {before.Metrics[MetricNames.TestMse]} before");
    }

    [Fact]
    public void An_observer_answering_false_stops_the_run_at_once_and_the_adapter_and_result_are_still_written()
    {
        var observer = new RecordingObserver { StopWhen = p => p.IsEvaluation && p.Evaluation == 1 };

        var outcome = TrialTrainer.Run(Request("stopped", Mlp(40)), observer, CancellationToken.None);

        Assert.True(outcome.StoppedEarly);
        Assert.Equal(5, outcome.Steps);
        Assert.Equal(observer.Progress.Last().Metrics, outcome.Metrics);
        Assert.Contains(MetricNames.TestAccuracy, outcome.Metrics.Keys);
        Assert.True(File.Exists(Path.Combine(_workspace.Sub("stopped"), "adapter", PeftAdapter.WeightsFileName)));
        using var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(_workspace.Sub("stopped"), TrialResult.FileName)));
        Assert.True(result.RootElement.GetProperty("stopped_early").GetBoolean());
        Assert.Equal(outcome.FileSha256["adapter/adapter_model.safetensors"],
            result.RootElement.GetProperty("files").GetProperty("adapter/adapter_model.safetensors").GetString());
    }

    [Fact]
    public void Cancelling_the_token_stops_like_an_observer_answering_false()
    {
        using var cancel = new CancellationTokenSource();
        var observer = new RecordingObserver { OnEach = p => { if (p.Step >= 10) cancel.Cancel(); } };

        var outcome = TrialTrainer.Run(Request("cancelled", Mlp(40)), observer, cancel.Token);

        Assert.True(outcome.StoppedEarly);
        Assert.Equal(10, outcome.Steps);
        Assert.True(File.Exists(Path.Combine(_workspace.Sub("cancelled"), TrialResult.FileName)));
    }

    [Fact]
    public void Progress_comes_every_ten_steps_and_at_each_evaluation_counting_evaluations()
    {
        var observer = new RecordingObserver();
        TrialTrainer.Run(Request("progress", Mlp(20) with { EvalEvery = 0, Epochs = 1, MaxSteps = 0, BatchSize = 1000 }), observer, CancellationToken.None);

        // 8,000 digits in batches of 1,000: 8 steps, one evaluation at the end of the epoch.
        var evaluation = Assert.Single(observer.Progress, p => p.IsEvaluation);
        Assert.Equal(8, evaluation.Step);
        Assert.Equal(1, evaluation.Evaluation);
        Assert.Contains(MetricNames.TrainLoss, evaluation.Metrics.Keys);
    }

    [Fact]
    public void Full_mode_trains_every_weight_and_writes_model_safetensors_and_base_mode_writes_only_the_result()
    {
        var full = TrialTrainer.Run(Request("full", Mlp(5) with { Adapter = AdapterKind.Full }), null, CancellationToken.None);
        var frozen = TrialTrainer.Run(Request("base", Mlp(5) with { Adapter = AdapterKind.Base }), null, CancellationToken.None);

        Assert.Equal(55_050, full.TrainableParameters);
        Assert.Equal(["model.safetensors", "result.json"], full.FileSha256.Keys);
        Assert.Equal(0, frozen.TrainableParameters);
        Assert.Equal(0, frozen.Steps);
        Assert.Equal(["result.json"], frozen.FileSha256.Keys);
        Assert.False(Directory.Exists(Path.Combine(_workspace.Sub("base"), "adapter")));
    }

    [Fact]
    public void Native_memory_stays_flat_over_training_steps()
    {
        long after100 = 0, after300 = 0;
        var observer = new RecordingObserver
        {
            OnEach = p =>
            {
                if (p.Step == 100) after100 = CurrentRss();
                if (p.Step == 300) after300 = CurrentRss();
            },
        };

        TrialTrainer.Run(Request("memory", Mlp(300) with { BatchSize = 512, EvalEvery = 0, Epochs = 0 }), observer, CancellationToken.None);

        Assert.True(after100 > 0 && after300 > 0);
        // A leaked batch (512×784 floats) per step would add ~320 MB over 200 steps. Allowed: below two shuffled epoch
        // copies of the shipped digits (8,000×784 floats, 25 MB each, replaced at every epoch boundary); the first
        // hundred steps are left out while the C heap grows to its working size (NativeHeap keeps freed tensor memory).
        Assert.True(after300 - after100 < 48L * 1024 * 1024, $"RSS grew {(after300 - after100) / 1024 / 1024} MB between step 100 and step 300");
    }

    private static long CurrentRss()
    {
        // Managed garbage (tensor wrappers awaiting a collection) is not a native leak: collect it before reading RSS.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }
}
