using System.Text.Json;
using Orchestrator.Sweeps;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Packing;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Silo.Training;

/// <summary>The real runner: TorchSharp training through <see cref="TrialTrainer"/>, and packs through <see cref="PackedTrialTrainer"/>.</summary>
public sealed class TorchTrialRunner : ITrialRunner
{
    public int MaxPack => PackSetting.MaxSize;

    public TrainingOutcome Run(TrialLease lease, TrialWorkspace workspace, ITrainingObserver observer, CancellationToken cancellationToken)
    {
        using var sharing = workspace.SharedBases is { } shared ? BaseModelCache.ShareThrough(shared) : null;
        return TrialTrainer.Run(RequestOf(lease, workspace), observer, cancellationToken);
    }

    public IReadOnlyList<PackMemberOutcome> RunPack(IReadOnlyList<PackMemberWork> members, string packId, CancellationToken cancellationToken)
    {
        using var sharing = members[0].Workspace.SharedBases is { } shared ? BaseModelCache.ShareThrough(shared) : null;
        return PackedTrialTrainer.Run(members.Select(m => new PackMemberRequest(RequestOf(m.Lease, m.Workspace), m.Observer) { Name = m.Lease.TrialId }).ToList(),
            packId, LowRankBatching.Padded, cancellationToken);
    }

    private static TrainingRequest RequestOf(TrialLease lease, TrialWorkspace workspace)
    {
        return new TrainingRequest(lease.Config, lease.Base, workspace.OutputDirectory, workspace.BaseCacheDirectory)
        {
            ResumeFrom = workspace.ResumeFrom,
            Device = workspace.Device,
            Resources = workspace.Resources,
        };
    }
}
