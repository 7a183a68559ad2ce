using Orchestrator.Trainer.Packing;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Silo.Training;

/// <summary>
/// Trains one leased trial. Called on a dedicated thread (never an Orleans scheduler thread); blocking is expected.
/// The observer carries progress out and stop requests in.
/// </summary>
public interface ITrialRunner
{
    TrainingOutcome Run(TrialLease lease, TrialWorkspace workspace, ITrainingObserver observer, CancellationToken cancellationToken);

    /// <summary>The most trials this runner trains together (1: it trains every trial alone, and its slots lease no packs).</summary>
    int MaxPack => 1;

    /// <summary>
    /// Trains the leases of one pack together, each member reporting through its own observer; a member's failure is its
    /// own outcome. Throws only when the pack as a whole cannot start (its members then fail as they would alone).
    /// </summary>
    IReadOnlyList<PackMemberOutcome> RunPack(IReadOnlyList<PackMemberWork> members, string packId, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{GetType().Name} trains trials alone");
}

/// <summary>One member of a leased pack: its lease, its local workspace and the observer that carries its progress.</summary>
public sealed record PackMemberWork(TrialLease Lease, TrialWorkspace Workspace, ITrainingObserver Observer);

/// <summary>Where one attempt of a trial works on local disk.</summary>
/// <param name="ResumeFrom">A downloaded checkpoint directory, or null to start fresh.</param>
public sealed record TrialWorkspace(string OutputDirectory, string BaseCacheDirectory, string? ResumeFrom, string Device)
{
    /// <summary>Where pretrained bases are shared with the other silos; null: this silo's cache alone.</summary>
    public IBaseModelShare? SharedBases { get; init; }
    /// <summary>Where named models and datasets (`minilm-l6`, `imdb`) come from.</summary>
    public INamedResources? Resources { get; init; }
}
