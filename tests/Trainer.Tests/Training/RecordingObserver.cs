using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

/// <summary>Records every report; <see cref="StopWhen"/> decides when to answer false.</summary>
public sealed class RecordingObserver : ITrainingObserver
{
    public List<TrainingProgress> Progress { get; } = [];
    public List<(string Directory, long Step)> Checkpoints { get; } = [];
    public Func<TrainingProgress, bool> StopWhen { get; init; } = _ => false;
    public Action<TrainingProgress>? OnEach { get; init; }

    public bool OnProgress(TrainingProgress progress)
    {
        Progress.Add(progress);
        OnEach?.Invoke(progress);
        return !StopWhen(progress);
    }

    public void OnCheckpoint(string directory, long step) => Checkpoints.Add((directory, step));
}
