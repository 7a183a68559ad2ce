using Orchestrator.Trainer.Training;

namespace Orchestrator.Silo.Training;

/// <summary>
/// Trains one leased trial. Called on a dedicated thread (never an Orleans scheduler thread); blocking is expected.
/// The observer carries progress out and stop requests in.
/// </summary>
public interface ITrialRunner
{
    TrainingOutcome Run(TrialLease lease, TrialWorkspace workspace, ITrainingObserver observer, CancellationToken cancellationToken);
}

/// <summary>Where one attempt of a trial works on local disk.</summary>
/// <param name="ResumeFrom">A downloaded checkpoint directory, or null to start fresh.</param>
public sealed record TrialWorkspace(string OutputDirectory, string BaseCacheDirectory, string? ResumeFrom, string Device)
{
    /// <summary>Where pretrained bases are shared with the other silos; null: this silo's cache alone.</summary>
    public IBaseModelShare? SharedBases { get; init; }
    /// <summary>Where named models and datasets (`minilm-l6`, `imdb`) come from.</summary>
    public INamedResources? Resources { get; init; }
}
