namespace Orchestrator.Trials.Estimation;

/// <summary>
/// The memory one trial needs as its config trains it. Counting a built-in model means building it, which takes the
/// trainer (TorchSharp); the silo supplies the trainer's estimator, and everything that only schedules trials asks
/// through this.
/// </summary>
public interface ITrialMemoryEstimator
{
    /// <exception cref="Exception">When the model is only known at training time (a folder on another machine).</exception>
    MemoryEstimate Estimate(TrainingConfig config);
}
