using Orchestrator.Trials.Configuration;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// How many optimiser steps a trial takes, and after which of them it evaluates and checkpoints: the one rule a trial
/// alone (<see cref="TrainingLoop"/>) and a pack member (<c>PackedTrainingLoop</c>) both follow, so a trial reports the
/// same evaluations, and resumes from the same checkpoints, whether or not it was packed.
/// </summary>
public readonly record struct StepCadence(long TotalSteps, int EvalEvery, int CheckpointEvery)
{
    /// <param name="batchesPerEpoch">Micro-batches in one pass over the training split.</param>
    /// <param name="accumulation">Micro-batches per optimiser step (gradient_accumulation_steps).</param>
    public static StepCadence Of(TrainingConfig config, int batchesPerEpoch, int accumulation = 1)
    {
        ArgumentNullException.ThrowIfNull(config);
        var total = config.MaxSteps > 0 ? config.MaxSteps : (long)Math.Max(0, config.Epochs) * StepsPerEpoch(batchesPerEpoch, accumulation);
        return new StepCadence(total, config.EvalEvery, config.CheckpointEvery);
    }

    /// <summary>Optimiser steps in one epoch: a last, shorter group of micro-batches still makes a step.</summary>
    public static long StepsPerEpoch(int batchesPerEpoch, int accumulation) => (batchesPerEpoch + accumulation - 1) / accumulation;

    /// <summary>Evaluate after <paramref name="step"/>: every eval_every steps (0: at each epoch's end), and always after the last.</summary>
    public bool Evaluates(long step, bool endOfEpoch) => (EvalEvery > 0 ? step % EvalEvery == 0 : endOfEpoch) || step == TotalSteps;

    /// <summary>Checkpoint after <paramref name="step"/>: every checkpoint_every steps (0: whenever it evaluates).</summary>
    public bool Checkpoints(long step, bool evaluates) => CheckpointEvery > 0 ? step % CheckpointEvery == 0 : evaluates;
}
