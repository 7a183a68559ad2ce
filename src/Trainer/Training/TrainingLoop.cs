using System.Diagnostics;
using System.Text.Json;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Models;
using Orchestrator.Trainer.Memory;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>What the loop needs besides the model: the optimisation knobs of a <see cref="TrainingConfig"/>.</summary>
public sealed record TrainingLoopOptions
{
    public required TrainingConfig Config { get; init; }
    /// <summary>Folder that receives `checkpoints/step-N/`; null writes no checkpoints.</summary>
    public string? CheckpointOutputDirectory { get; init; }
    /// <summary>Checkpoint to continue from (already verified and loaded).</summary>
    public CheckpointContents? Resume { get; init; }
    public ITrainingObserver? Observer { get; init; }
    public CancellationToken CancellationToken { get; init; }
    public Device Device { get; init; } = CPU;
    /// <summary>A progress report (training loss only) every this many steps, besides one per evaluation.</summary>
    public int ProgressEvery { get; init; } = 10;
    /// <summary>Times each step's phases when set (benchmarks).</summary>
    public StepPhases? Phases { get; init; }
}

public sealed record TrainingLoopResult(
    IReadOnlyDictionary<string, double> Metrics,
    long Steps,
    long TotalSteps,
    int Evaluations,
    bool StoppedEarly,
    string? LastCheckpoint,
    TimeSpan Elapsed);

/// <summary>
/// The train loop, top to bottom: AdamW over the trainable parameters, a learning rate set per step from the
/// schedule, gradient clipping, evaluation every N steps or per epoch, checkpoints, progress, stop on request.
/// One dispose scope per step keeps native memory flat. Datasets with a validation split are evaluated on it during
/// training and on their test split once, after the last step (or the stop). Every random draw (dropout masks) comes from the run's own
/// generator, seeded from the config's seed and saved in checkpoints, so runs training at once in one process do not
/// disturb each other's streams.
/// </summary>
public static class TrainingLoop
{
    public const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;

    public static TrainingLoopResult Run(nn.Module<Tensor, Tensor> model, ITrainingDataset data,
        IReadOnlyList<(string Name, Parameter Parameter)> trainable, TrainingLoopOptions options)
    {
        var config = options.Config;
        if (config.BatchSize <= 0) throw new ArgumentException("batch_size must be positive");
        var watch = Stopwatch.StartNew();
        var accumulation = config.GradientAccumulationSteps;
        if (accumulation <= 0) throw new ArgumentException("gradient_accumulation_steps must be positive");
        var batchesPerEpoch = data.TrainBatchCount(config.BatchSize);
        var cadence = StepCadence.Of(config, batchesPerEpoch, accumulation);
        long totalSteps = cadence.TotalSteps;
        var schedule = new LearningRateSchedule(config.Schedule, config.LearningRate, LearningRateSchedule.WarmupStepsOf(config, totalSteps), totalSteps);
        // LoRA+ splits the parameters into groups at their own learning rates; the trainable list follows the groups'
        // order, which is the order of the optimizer's states that checkpoints pair with names.
        var groups = Lora.OptimizerGroups.Of(model, trainable, config);
        trainable = groups.SelectMany(g => g.Parameters).ToList();
        var parameters = trainable.Select(t => t.Parameter).ToList();

        using var optimizer = parameters.Count > 0
            ? Lora.OptimizerGroups.CreateAdamW(groups, config.LearningRate, Beta1, Beta2, Epsilon)
            : null;

        var configSha256 = FileHashes.Sha256(JsonSerializer.SerializeToUtf8Bytes(config));
        var position = new CheckpointManifest { DataSeed = config.Seed };
        using var generator = new Generator(unchecked((ulong)config.Seed), CPU);
        if (options.Resume is { } resume)
        {
            if (resume.Manifest.ConfigSha256 is { } written && written != configSha256)
                throw new InvalidOperationException($"checkpoint {resume.Directory} was written by a run with a different training config");
            Restore(resume, trainable, optimizer, generator);
            position = resume.Manifest;
        }

        long step = position.Step;
        var epoch = position.Epoch;
        var batchInEpoch = position.BatchInEpoch;
        // The running loss sum stays a tensor: reading a loss back is a device sync, done only when a report needs it.
        using var lossSum = torch.tensor(position.TrainLossSum, dtype: ScalarType.Float64, device: options.Device);
        var lossCount = position.TrainLossCount;
        var evaluations = position.Evaluations;
        var lastEvaluationStep = position.LastEvaluationStep;
        IReadOnlyDictionary<string, double> lastMetrics = position.LastMetrics;
        string? lastCheckpoint = options.Resume?.Directory;
        var stopped = false;

        var garbage = ManagedGarbageBound.For(config);
        GeneratorDropout.Use(model, generator);
        try
        {
            model.train();
            while (step < totalSteps && optimizer is not null)
            {
                if (options.CancellationToken.IsCancellationRequested) { stopped = true; break; }

                var stepEpoch = epoch;
                var microBatches = 1;
                var progressDue = options.ProgressEvery > 0 && (step + 1) % options.ProgressEvery == 0;
                var loss = double.NaN;
                using (var scope = torch.NewDisposeScope())
                {
                    var phases = options.Phases;
                    phases?.Begin();
                    var learningRate = schedule.At(step);
                    var g = 0;
                    foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate * groups[g++].LearningRateFactor;
                    optimizer.zero_grad();
                    microBatches = Math.Min(accumulation, batchesPerEpoch - batchInEpoch);
                    var lossTensor = AccumulateGradients(model, data, config, epoch, batchInEpoch, microBatches, options.Device, phases);
                    // Clipping sees the accumulated gradient, as transformers clips once per optimiser step.
                    if (config.GradClip > 0) nn.utils.clip_grad_norm_(parameters, config.GradClip);
                    phases?.End(StepPhase.Clip);
                    optimizer.step();
                    phases?.End(StepPhase.Optimizer);
                    lossSum.add_(lossTensor.to_type(ScalarType.Float64));
                    if (progressDue) loss = lossTensor.item<float>();
                }

                garbage?.Check(); // the step's scope has ended: its garbage is garbage now
                step++;
                lossCount++;
                batchInEpoch += microBatches;
                var endOfEpoch = batchInEpoch == batchesPerEpoch;
                if (endOfEpoch) { epoch++; batchInEpoch = 0; }

                var evaluate = cadence.Evaluates(step, endOfEpoch);
                var keepGoing = true;
                if (evaluate)
                {
                    lastMetrics = EvaluateWithTrainLoss(model, data, config.BatchSize, options.Device, lossSum.item<double>(), lossCount, garbage);
                    evaluations++;
                    lastEvaluationStep = step;
                    lossSum.zero_();
                    lossCount = 0;
                }

                var checkpoint = options.CheckpointOutputDirectory is not null && cadence.Checkpoints(step, evaluate);
                void Checkpoint()
                {
                    var manifest = new CheckpointManifest
                    {
                        Step = step, Epoch = epoch, BatchInEpoch = batchInEpoch, DataSeed = config.Seed, ConfigSha256 = configSha256,
                        TrainLossSum = lossSum.item<double>(), TrainLossCount = lossCount, Evaluations = evaluations,
                        LastEvaluationStep = lastEvaluationStep, LastMetrics = lastMetrics,
                    };
                    lastCheckpoint = WriteCheckpoint(options.CheckpointOutputDirectory!, manifest, trainable, optimizer, generator);
                    options.Observer?.OnCheckpoint(lastCheckpoint, step);
                }
                if (checkpoint) Checkpoint();

                if (evaluate)
                {
                    keepGoing = Report(options.Observer, new TrainingProgress(step, totalSteps, stepEpoch, lastMetrics, true) { Evaluation = evaluations });
                }
                else if (progressDue)
                {
                    keepGoing = Report(options.Observer, new TrainingProgress(step, totalSteps, stepEpoch,
                        new Dictionary<string, double> { [MetricNames.TrainLoss] = loss }, false) { Evaluation = evaluations });
                }

                if (!keepGoing || options.CancellationToken.IsCancellationRequested)
                {
                    stopped = step < totalSteps;
                    if (stopped)
                    {
                        // Stopped mid-run (drain, pause, pruning): checkpoint here, so whoever resumes loses no steps.
                        if (options.CheckpointOutputDirectory is not null && !checkpoint) Checkpoint();
                        break;
                    }
                }
            }

            // Nothing to train (base mode, no steps) or stopped before any evaluation: the result still needs numbers.
            if (evaluations == 0 || (optimizer is null && lastEvaluationStep != step))
            {
                lastMetrics = EvaluateWithTrainLoss(model, data, config.BatchSize, options.Device, lossSum.item<double>(), lossCount, garbage);
                evaluations++;
            }
        }
        finally
        {
            GeneratorDropout.Use(model, null);
        }

        // A dataset with a validation split is evaluated on it while training; the test split is read once, at the end.
        if (data.ValidationCount > 0)
        {
            var withTest = new Dictionary<string, double>(lastMetrics.ToDictionary());
            foreach (var (name, value) in Evaluator.Evaluate(model, data, config.BatchSize, options.Device, garbage: garbage)) withTest[name] = value;
            lastMetrics = withTest;
        }

        return new TrainingLoopResult(lastMetrics, step, totalSteps, evaluations, stopped, lastCheckpoint, watch.Elapsed);
    }

    /// <summary>
    /// Forward and backward over <paramref name="microBatches"/> consecutive micro-batches of the epoch's order from
    /// <paramref name="firstBatch"/>, adding to the parameters' gradients; returns the step's loss, detached. With more
    /// than one, each micro-batch's loss is divided by their number before backward (transformers' gradient accumulation:
    /// its loss / current_gradient_accumulation_steps), so the gradient and the loss are the mean over the micro-batches;
    /// with one, the loss is used as it is, so a run without accumulation takes exactly the operations it took before.
    /// </summary>
    public static Tensor AccumulateGradients(nn.Module<Tensor, Tensor> model, ITrainingDataset data, TrainingConfig config,
        int epoch, int firstBatch, int microBatches, Device device, StepPhases? phases = null)
    {
        Tensor? stepLoss = null;
        for (var i = 0; i < microBatches; i++)
        {
            var batch = data.TrainBatch(config.BatchSize, config.Seed, epoch, firstBatch + i);
            phases?.End(StepPhase.Batch);
            Tensor output;
            using (GradientCheckpointing.Enable(config.GradientCheckpointing)) output = ModelForward.Run(model, batch.Inputs.to(device));
            phases?.End(StepPhase.Forward);
            var loss = TaskLoss.Compute(data.Task, output, batch.Targets.to(device));
            if (microBatches > 1) loss = loss / microBatches;
            phases?.End(StepPhase.Loss);
            loss.backward();
            phases?.End(StepPhase.Backward);
            stepLoss = stepLoss is null ? loss.detach() : stepLoss.add(loss.detach());
        }
        return stepLoss ?? throw new ArgumentOutOfRangeException(nameof(microBatches), microBatches, "a step takes at least one micro-batch");
    }

    private static bool Report(ITrainingObserver? observer, TrainingProgress progress) => observer?.OnProgress(progress) ?? true;

    internal static Dictionary<string, double> EvaluateWithTrainLoss(nn.Module<Tensor, Tensor> model, ITrainingDataset data,
        int batchSize, Device device, double lossSum, long lossCount, ManagedGarbageBound? garbage = null)
    {
        var metrics = Evaluator.Evaluate(model, data, batchSize, device, data.ValidationCount > 0 ? EvaluationSplit.Validation : EvaluationSplit.Test, garbage);
        if (lossCount > 0) metrics[MetricNames.TrainLoss] = lossSum / lossCount;
        return metrics;
    }

    internal static string WriteCheckpoint(string outputDirectory, CheckpointManifest manifest,
        IReadOnlyList<(string Name, Parameter Parameter)> trainable, AdamW optimizer, Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var states = optimizer.state_dict().State;
        for (var i = 0; i < trainable.Count; i++)
        {
            var (name, parameter) = trainable[i];
            weights[name] = parameter.detach().cpu();
            var s = (AdamW.State)states[i];
            state[$"{name}.exp_avg"] = s.exp_avg.detach().cpu();
            state[$"{name}.exp_avg_sq"] = s.exp_avg_sq.detach().cpu();
            state[$"{name}.step"] = torch.tensor(new[] { s.step }, dtype: ScalarType.Int64);
        }
        var rng = generator.get_state();
        return CheckpointDirectory.Write(outputDirectory, manifest, weights, state, rng);
    }

    internal static void Restore(CheckpointContents checkpoint, IReadOnlyList<(string Name, Parameter Parameter)> trainable, AdamW? optimizer, Generator generator)
    {
        var states = optimizer?.state_dict().State;
        using (torch.no_grad())
        {
            for (var i = 0; i < trainable.Count; i++)
            {
                var (name, parameter) = trainable[i];
                parameter.copy_(Require(checkpoint, checkpoint.Weights, name, parameter.shape));
                if (states is null) continue;
                var s = (AdamW.State)states[i];
                s.exp_avg.copy_(Require(checkpoint, checkpoint.Optimizer, $"{name}.exp_avg", parameter.shape));
                s.exp_avg_sq.copy_(Require(checkpoint, checkpoint.Optimizer, $"{name}.exp_avg_sq", parameter.shape));
                s.step = Require(checkpoint, checkpoint.Optimizer, $"{name}.step", [1]).item<long>();
            }
        }
        if (checkpoint.Weights.Count != trainable.Count)
            throw new CheckpointCorruptException(checkpoint.Directory,
                $"holds {checkpoint.Weights.Count} trainable tensors, the model has {trainable.Count}");
        generator.set_state(checkpoint.RngState);
    }

    private static Tensor Require(CheckpointContents checkpoint, IReadOnlyDictionary<string, Tensor> tensors, string name, long[] shape)
    {
        if (!tensors.TryGetValue(name, out var tensor))
            throw new CheckpointCorruptException(checkpoint.Directory, $"no tensor '{name}' (written for a different model or adapter?)");
        if (!tensor.shape.SequenceEqual(shape))
            throw new CheckpointCorruptException(checkpoint.Directory, $"'{name}' has shape [{string.Join(", ", tensor.shape)}], expected [{string.Join(", ", shape)}]");
        return tensor;
    }
}
