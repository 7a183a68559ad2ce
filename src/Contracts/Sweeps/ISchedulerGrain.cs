using Orleans.Concurrency;

namespace Orchestrator.Contracts.Sweeps;

/// <summary>
/// The cluster's one scheduler (key 0): knows the active sweeps and the workers, and hands a free worker slot the
/// next trials, round-robin over sweeps. Workers pull; nothing waits on a worker.
/// </summary>
[Alias("scheduler")]
public interface ISchedulerGrain : IGrainWithIntegerKey
{
    // Interleaved: a sweep calls these while the scheduler may be waiting on that sweep's LeasePackAsync.
    [AlwaysInterleave, Alias("activate")] Task SweepActiveAsync(string sweep, CancellationToken cancellationToken = default);
    [AlwaysInterleave, Alias("deactivate")] Task SweepInactiveAsync(string sweep, CancellationToken cancellationToken = default);
    /// <summary>The next pack (or single trial) for one slot, from the next active sweep that has one (see <see cref="ISweepGrain.LeasePackAsync"/>).</summary>
    [Alias("lease-pack")] Task<IReadOnlyList<TrialLease>> LeasePackAsync(WorkerSlot worker, int maxMembers, CancellationToken cancellationToken = default);
    [Alias("sweeps")] Task<IReadOnlyList<string>> GetSweepsAsync(bool includeFinished, CancellationToken cancellationToken = default);
    [Alias("workers")] Task<IReadOnlyList<string>> GetWorkerIdsAsync(CancellationToken cancellationToken = default);
}
