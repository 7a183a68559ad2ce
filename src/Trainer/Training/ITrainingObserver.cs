namespace Orchestrator.Trainer.Training;

/// <summary>
/// What a running trial tells the outside world. Called on the training thread: keep it short.
/// Returning false from <see cref="OnProgress"/> stops the run at that point (pruning, cancellation, drain).
/// </summary>
public interface ITrainingObserver
{
    /// <summary>Called every few steps and after every evaluation. Return false to stop training.</summary>
    bool OnProgress(TrainingProgress progress);

    /// <summary>Called after a complete checkpoint has been written to <paramref name="directory"/>.</summary>
    void OnCheckpoint(string directory, long step);
}

/// <summary>One progress report. <see cref="Metrics"/> holds the latest training loss, and evaluation metrics when <see cref="IsEvaluation"/>.</summary>
public sealed record TrainingProgress(long Step, long TotalSteps, int Epoch, IReadOnlyDictionary<string, double> Metrics, bool IsEvaluation)
{
    /// <summary>Number of evaluations so far, counting this one (the `iter` unit of early stopping).</summary>
    public int Evaluation { get; init; }
}
