using Orchestrator.Contracts.Workers;
using Orleans.Placement;

namespace Orchestrator.Grains.Workers;

/// <summary>
/// A live view of one accelerator slot, activated on its own silo by the trainer service's first heartbeat.
/// Not persisted: the truth about trials is the sweep's journal; this only answers `workers`.
/// </summary>
[PreferLocalPlacement]
public sealed class WorkerGrain : Grain, IWorkerGrain
{
    private WorkerInfo? _info;

    public Task HeartbeatAsync(WorkerInfo info, CancellationToken cancellationToken = default)
    {
        _info = info;
        return Task.CompletedTask;
    }

    public Task<WorkerInfo?> GetInfoAsync(CancellationToken cancellationToken = default) => Task.FromResult(_info);
}
