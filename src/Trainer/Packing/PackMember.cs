using System.Text.Json;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Packing;

/// <summary>What one member brings to a packed loop: its config, its adapter parameters, and where it reports and writes.</summary>
public sealed record PackMemberOptions
{
    public required TrainingConfig Config { get; init; }
    /// <summary>The member's trainable parameters under the names they have in the same trial alone.</summary>
    public required IReadOnlyList<(string Name, Parameter Parameter)> Trainable { get; init; }
    /// <summary>Folder that receives `checkpoints/step-N/`; null writes no checkpoints.</summary>
    public string? CheckpointOutputDirectory { get; init; }
    /// <summary>Checkpoint to continue from (already verified and loaded): members of one pack may resume from different steps.</summary>
    public CheckpointContents? Resume { get; init; }
    public ITrainingObserver? Observer { get; init; }
}

/// <summary>How one member's part of a packed run ended: its loop result, or the error that took it out of the pack.</summary>
public sealed record PackMemberResult(TrainingLoopResult? Loop, Exception? Error)
{
    public bool Failed => Error is not null;
}

/// <summary>
/// One member's own training state inside a packed loop: everything <see cref="TrainingLoop"/> keeps for a trial alone
/// (optimizer, schedule, dropout generator, data position, running loss, evaluations, last checkpoint).
/// </summary>
internal sealed class PackMember : IDisposable
{
    public PackMember(int index, PackMemberOptions options, int batchesPerEpoch, Device device)
    {
        Index = index;
        Options = options;
        Config = options.Config;
        BatchesPerEpoch = batchesPerEpoch;
        Cadence = StepCadence.Of(Config, batchesPerEpoch); // a member takes one micro-batch per step
        TotalSteps = Cadence.TotalSteps;
        Schedule = new LearningRateSchedule(Config.Schedule, Config.LearningRate, LearningRateSchedule.WarmupStepsOf(Config, TotalSteps), TotalSteps);
        Parameters = options.Trainable.Select(t => t.Parameter).ToList();
        if (Parameters.Count == 0) throw new ArgumentException("A pack member trains at least one parameter (LoRA only).", nameof(options));
        Optimizer = new Training.StepwiseAdamW(Parameters, Config.LearningRate, TrainingLoop.Beta1, TrainingLoop.Beta2, TrainingLoop.Epsilon, Config.WeightDecay);
        ConfigSha256 = FileHashes.Sha256(JsonSerializer.SerializeToUtf8Bytes(Config));
        Generator = new Generator(unchecked((ulong)Config.Seed), CPU);

        var position = new CheckpointManifest { DataSeed = Config.Seed };
        if (options.Resume is { } resume)
        {
            if (resume.Manifest.ConfigSha256 is { } written && written != ConfigSha256)
                throw new InvalidOperationException($"checkpoint {resume.Directory} was written by a run with a different training config");
            TrainingLoop.Restore(resume, options.Trainable, Optimizer, Generator);
            position = resume.Manifest;
        }
        Step = position.Step;
        Epoch = position.Epoch;
        BatchInEpoch = position.BatchInEpoch;
        LossSum = torch.tensor(position.TrainLossSum, dtype: ScalarType.Float64, device: device);
        LossCount = position.TrainLossCount;
        Evaluations = position.Evaluations;
        LastEvaluationStep = position.LastEvaluationStep;
        LastMetrics = position.LastMetrics;
        LastCheckpoint = options.Resume?.Directory;
        LastCheckpointStep = position.Step;
    }

    public int Index { get; }
    public PackMemberOptions Options { get; }
    public TrainingConfig Config { get; }
    public int BatchesPerEpoch { get; }
    public StepCadence Cadence { get; }
    public long TotalSteps { get; }
    public LearningRateSchedule Schedule { get; }
    public List<Parameter> Parameters { get; }
    public AdamW Optimizer { get; }
    public string ConfigSha256 { get; }
    public Generator Generator { get; }
    public Tensor LossSum { get; }

    public long Step { get; set; }
    public int Epoch { get; set; }
    public int BatchInEpoch { get; set; }
    public long LossCount { get; set; }
    public int Evaluations { get; set; }
    public long LastEvaluationStep { get; set; }
    public IReadOnlyDictionary<string, double> LastMetrics { get; set; }
    public string? LastCheckpoint { get; set; }
    /// <summary>The step of <see cref="LastCheckpoint"/> (the starting step when there is none: nothing to save there).</summary>
    public long LastCheckpointStep { get; set; }
    public bool Stopped { get; set; }
    public Exception? Error { get; set; }
    public TimeSpan Elapsed { get; set; }

    public CheckpointManifest Manifest() => new()
    {
        Step = Step, Epoch = Epoch, BatchInEpoch = BatchInEpoch, DataSeed = Config.Seed, ConfigSha256 = ConfigSha256,
        TrainLossSum = LossSum.item<double>(), TrainLossCount = LossCount, Evaluations = Evaluations,
        LastEvaluationStep = LastEvaluationStep, LastMetrics = LastMetrics,
    };

    public void Dispose()
    {
        Optimizer.Dispose();
        Generator.Dispose();
        LossSum.Dispose();
    }
}
