using System.Diagnostics;

namespace Orchestrator.Trainer.Training;

/// <summary>The parts of a training step, in the order a step runs them.</summary>
public enum StepPhase { Batch, Forward, Loss, Backward, Clip, Optimizer }

/// <summary>
/// Where a training step's wall time goes, phase by phase: `bench pack --phases` reads it to show what packing saves
/// and what it cannot. Null in a loop's options (the default) costs nothing. CPU kernels run synchronously, so each
/// phase's time is its work; on a GPU, kernels queue asynchronously and a phase shows only its launch cost.
/// </summary>
public sealed class StepPhases
{
    private readonly double[] _milliseconds = new double[Enum.GetValues<StepPhase>().Length];
    private readonly Stopwatch _watch = new();

    /// <summary>Steps counted (one per <see cref="StepPhase.Optimizer"/>).</summary>
    public long Steps { get; private set; }

    /// <summary>A step starts: the clock runs from here to the first <see cref="End"/>.</summary>
    public void Begin() => _watch.Restart();

    /// <summary>The time since <see cref="Begin"/> or the previous phase goes to <paramref name="phase"/>.</summary>
    public void End(StepPhase phase)
    {
        _milliseconds[(int)phase] += _watch.Elapsed.TotalMilliseconds;
        _watch.Restart();
        if (phase == StepPhase.Optimizer) Steps++;
    }

    /// <summary>Forget what was counted (after warm-up steps).</summary>
    public void Reset()
    {
        Array.Clear(_milliseconds);
        Steps = 0;
    }

    /// <summary>Milliseconds per trial-step by phase name (lower case): a pack's step is <paramref name="trialsPerStep"/> trial-steps.</summary>
    public IReadOnlyDictionary<string, double> PerTrialStep(int trialsPerStep = 1) =>
        Enum.GetValues<StepPhase>().ToDictionary(p => p.ToString().ToLowerInvariant(),
            p => Steps == 0 ? 0 : _milliseconds[(int)p] / Steps / trialsPerStep);
}
