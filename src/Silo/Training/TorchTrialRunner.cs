using System.Text.Json;
using Orchestrator.Trainer.Configuration;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Silo.Training;

/// <summary>The real runner: TorchSharp training through <see cref="TrialTrainer"/>.</summary>
public sealed class TorchTrialRunner : ITrialRunner
{
    public TrainingOutcome Run(TrialLease lease, TrialWorkspace workspace, ITrainingObserver observer, CancellationToken cancellationToken)
    {
        var config = JsonSerializer.Deserialize<TrainingConfig>(lease.ConfigJson)
            ?? throw new InvalidOperationException($"trial {lease.TrialId} has no config");
        var baseSpec = JsonSerializer.Deserialize<BaseModelSpec>(lease.BaseJson) ?? new BaseModelSpec();
        var request = new TrainingRequest(config, baseSpec, workspace.OutputDirectory, workspace.BaseCacheDirectory)
        {
            ResumeFrom = workspace.ResumeFrom,
            Device = workspace.Device,
            Resources = workspace.Resources,
        };
        using var sharing = workspace.SharedBases is { } shared ? BaseModelCache.ShareThrough(shared) : null;
        return TrialTrainer.Run(request, observer, cancellationToken);
    }
}
