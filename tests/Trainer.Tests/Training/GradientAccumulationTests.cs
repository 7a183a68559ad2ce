using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Packing;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Models;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Safetensors;
using Orchestrator.Trainer.Training;
using TorchSharp;

namespace Orchestrator.Trainer.Tests.Training;

/// <summary>
/// gradient_accumulation_steps as Hugging Face's Trainer runs it. What holds exactly, and why: the epoch's order depends
/// on the seed and epoch alone, so micro-batches 0 and 1 of 32 hold exactly the rows of batch 0 of 64; a model with
/// nothing that depends on the batch (no dropout masks, no batch statistics) and a mean loss then gives a 64-row loss equal
/// to the mean of the two 32-row losses, and the same gradient. Only the order of float sums differs (1e-7 relative).
/// Adam's first update is nearly lr·sign(g) whatever the gradient's scale, so the gradient itself is compared, and the
/// end-to-end runs compare losses after several steps.
/// </summary>
public sealed class GradientAccumulationTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private TrainingRequest Request(string name, TrainingConfig config) =>
        new(config, new BaseModelSpec(), _workspace.Sub(name), _workspace.Sub("bases"));

    private static (float Loss, Dictionary<string, float[]> Gradients) FirstStepGradient(int batchSize, int accumulation)
    {
        var config = new TrainingConfig { Model = "mlp", Dataset = "mnist", BatchSize = batchSize, GradientAccumulationSteps = accumulation, Seed = 7 };
        using var data = DatasetCatalog.Load(config);
        using var model = new MlpModel(seed: 3, dropout: 0);
        model.train();
        using var scope = torch.NewDisposeScope();
        var loss = TrainingLoop.AccumulateGradients(model, data, config, epoch: 0, firstBatch: 0, microBatches: accumulation, torch.CPU);
        return (loss.item<float>(), model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.data<float>().ToArray()));
    }

    [Fact]
    public void Two_micro_batches_of_32_give_the_loss_and_gradient_of_one_batch_of_64()
    {
        var (loss64, whole) = FirstStepGradient(batchSize: 64, accumulation: 1);
        var (loss32, accumulated) = FirstStepGradient(batchSize: 32, accumulation: 2);

        Assert.Equal(loss64, loss32, 1e-5f);
        Assert.Equal(whole.Keys.Order(), accumulated.Keys.Order());
        foreach (var (name, expected) in whole)
        {
            var scale = expected.Max(MathF.Abs);
            Assert.True(scale > 0, $"{name} has no gradient");
            var worst = expected.Zip(accumulated[name], (a, b) => MathF.Abs(a - b)).Max();
            Assert.True(worst <= 1e-5f * scale, $"{name}: |Δ| {worst:E2} against a largest entry of {scale:E2}");
        }
    }

    [Fact]
    public void Accumulating_2_of_25_trains_as_a_batch_of_50_step_for_step()
    {
        // transformer-block has no dropout and LayerNorm is per row; the 100 training rows are two steps of 50 either way.
        TrainingConfig Block(int batch, int accumulation) => new()
        {
            Model = "transformer-block", Dataset = "synthetic-regression", Rank = 8, Alpha = 16, TargetModules = ["q_proj", "v_proj"],
            BatchSize = batch, GradientAccumulationSteps = accumulation, Epochs = 3, Seed = 5, GradClip = 0.5, Schedule = ScheduleKind.Linear,
        };
        var whole = TrialTrainer.Run(Request("whole", Block(50, 1)), null, CancellationToken.None);
        var accumulated = TrialTrainer.Run(Request("accumulated", Block(25, 2)), null, CancellationToken.None);

        Assert.Equal(6, whole.Steps);
        Assert.Equal(6, accumulated.Steps);
        foreach (var (name, value) in whole.Metrics)
            Assert.True(Math.Abs(value - accumulated.Metrics[name]) <= 1e-4 * Math.Max(1, Math.Abs(value)), $"{name}: {value:R} against {accumulated.Metrics[name]:R}");
        var a = SafetensorsFile.ReadAll(Path.Combine(_workspace.Sub("whole"), TrialTrainer.AdapterFolder, PeftAdapter.WeightsFileName)).Tensors;
        var b = SafetensorsFile.ReadAll(Path.Combine(_workspace.Sub("accumulated"), TrialTrainer.AdapterFolder, PeftAdapter.WeightsFileName)).Tensors;
        foreach (var (key, tensor) in a) Assert.True(tensor.allclose(b[key], rtol: 1e-3, atol: 1e-5), key);
    }

    [Fact]
    public void Steps_schedule_and_evaluations_count_optimiser_steps_and_an_epoch_ends_on_the_micro_batches_left()
    {
        // 100 rows in batches of 10: 10 micro-batches an epoch, so 3 + 3 + 3 + 1 with accumulation 3: 4 steps an epoch.
        var config = new TrainingConfig
        {
            Model = "transformer-block", Dataset = "synthetic-regression", Rank = 4, Alpha = 4, TargetModules = ["q_proj", "v_proj"],
            BatchSize = 10, GradientAccumulationSteps = 3, Epochs = 2, Seed = 1,
        };
        var observer = new RecordingObserver();
        var outcome = TrialTrainer.Run(Request("epochs", config), observer, CancellationToken.None);

        Assert.Equal(8, outcome.Steps);
        Assert.Equal([4L, 8L], observer.Progress.Where(p => p.IsEvaluation).Select(p => p.Step));
        Assert.All(observer.Progress, p => Assert.Equal(8, p.TotalSteps));
    }

    [Fact]
    public void Resuming_a_run_that_accumulates_ends_bitwise_identical_to_an_uninterrupted_one()
    {
        // The mlp's own dropout 0.5 draws a mask per micro-batch from the trial's generator, saved with the checkpoint.
        var config = new TrainingConfig
        {
            Model = "mlp", Dataset = "mnist", Rank = 4, Alpha = 4, TargetModules = ["l1", "l2", "l3"], BatchSize = 64,
            GradientAccumulationSteps = 3, MaxSteps = 12, EvalEvery = 4, Schedule = ScheduleKind.Cosine, WarmupSteps = 2, Seed = 11,
        };
        var whole = TrialTrainer.Run(Request("whole", config), null, CancellationToken.None);
        var interrupted = TrialTrainer.Run(Request("interrupted", config), new RecordingObserver { StopWhen = p => p.Step >= 8 }, CancellationToken.None);
        Assert.Equal(8, interrupted.Steps);
        var resumeFrom = CheckpointDirectory.FindLatestValid(_workspace.Sub("interrupted"));
        Assert.Equal(CheckpointDirectory.PathOf(_workspace.Sub("interrupted"), 8), resumeFrom);

        var resumed = TrialTrainer.Run(Request("interrupted", config) with { ResumeFrom = resumeFrom }, null, CancellationToken.None);

        Assert.Equal(12, resumed.Steps);
        Assert.Equal(whole.Metrics, resumed.Metrics);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_workspace.Sub("whole"), TrialTrainer.AdapterFolder, PeftAdapter.WeightsFileName)),
            File.ReadAllBytes(Path.Combine(_workspace.Sub("interrupted"), TrialTrainer.AdapterFolder, PeftAdapter.WeightsFileName)));
    }

    [Fact]
    public void Resuming_after_an_epochs_short_last_step_ends_bitwise_identical_to_an_uninterrupted_run()
    {
        // 4 steps an epoch (3 + 3 + 3 + 1 micro-batches); stopped at step 5, the second epoch's first.
        var config = new TrainingConfig
        {
            Model = "transformer-block", Dataset = "synthetic-regression", Rank = 4, Alpha = 4, TargetModules = ["q_proj", "v_proj"],
            BatchSize = 10, GradientAccumulationSteps = 3, Epochs = 2, EvalEvery = 1, Seed = 2, Schedule = ScheduleKind.Cosine,
        };
        var whole = TrialTrainer.Run(Request("whole", config), null, CancellationToken.None);
        var interrupted = TrialTrainer.Run(Request("interrupted", config), new RecordingObserver { StopWhen = p => p.Step >= 5 }, CancellationToken.None);
        Assert.Equal(5, interrupted.Steps);

        var resumed = TrialTrainer.Run(Request("interrupted", config) with { ResumeFrom = CheckpointDirectory.FindLatestValid(_workspace.Sub("interrupted")) },
            null, CancellationToken.None);

        Assert.Equal(8, resumed.Steps);
        Assert.Equal(whole.Metrics, resumed.Metrics);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_workspace.Sub("whole"), TrialTrainer.AdapterFolder, PeftAdapter.WeightsFileName)),
            File.ReadAllBytes(Path.Combine(_workspace.Sub("interrupted"), TrialTrainer.AdapterFolder, PeftAdapter.WeightsFileName)));
    }

    [Fact]
    public void A_config_that_does_not_accumulate_serialises_as_before_the_option_existed_and_one_that_does_round_trips()
    {
        Assert.DoesNotContain("gradient_accumulation_steps", System.Text.Json.JsonSerializer.Serialize(new TrainingConfig { GradientAccumulationSteps = 1 }));
        var json = System.Text.Json.JsonSerializer.Serialize(new TrainingConfig { GradientAccumulationSteps = 4 });
        Assert.Contains("\"gradient_accumulation_steps\":4", json);
        Assert.Equal(4, System.Text.Json.JsonSerializer.Deserialize<TrainingConfig>(json)!.GradientAccumulationSteps);
        Assert.Equal(1, TrainingOptions.Get("gradient_accumulation_steps").Default);
        Assert.Contains(new TrainingConfig { GradientAccumulationSteps = 0 }.Problems(), p => p.Key == "gradient_accumulation_steps");
    }

    [Fact]
    public void A_trial_that_accumulates_never_packs_and_says_why() =>
        Assert.Contains("gradient_accumulation_steps 2", PackCompatibility.WhyNotPackable(new TrainingConfig { GradientAccumulationSteps = 2 }));
}
