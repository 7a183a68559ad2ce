using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Orchestrator.Grains.Scheduling;

/// <summary>
/// The cluster's one scheduler. A worker slot with room asks it for trials; it asks the active sweeps in turn
/// (round-robin, so sweeps share the cluster) and returns what they lease. The list of active sweeps is grain
/// state (Redis in a cluster, a file when embedded), so a restarted cluster picks its sweeps up again.
/// </summary>
public sealed class SchedulerGrain(
    [PersistentState("scheduler", StorageNames.Orchestrator)] IPersistentState<SchedulerState> state,
    IOptions<HeartbeatOptions> options,
    TimeProvider time) : Grain, ISchedulerGrain
{
    private readonly Dictionary<string, DateTimeOffset> _workersSeen = new(StringComparer.Ordinal);
    // The sweep-list methods interleave (see ISchedulerGrain): writes go one at a time so none carries a stale ETag.
    private readonly SemaphoreSlim _writes = new(1, 1);
    private int _cursor;

    public async Task SweepActiveAsync(string sweep, CancellationToken cancellationToken = default)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            var changed = false;
            if (!state.State.Known.Contains(sweep)) { state.State.Known.Add(sweep); changed = true; }
            if (!state.State.Active.Contains(sweep)) { state.State.Active.Add(sweep); changed = true; }
            if (changed) await state.WriteStateAsync(cancellationToken);
        }
        finally { _writes.Release(); }
    }

    public async Task SweepInactiveAsync(string sweep, CancellationToken cancellationToken = default)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            if (state.State.Active.Remove(sweep)) await state.WriteStateAsync(cancellationToken);
        }
        finally { _writes.Release(); }
    }

    public async Task<IReadOnlyList<TrialLease>> LeasePackAsync(WorkerSlot worker, int maxMembers, CancellationToken cancellationToken = default)
    {
        _workersSeen[worker.WorkerId] = time.GetUtcNow();
        var active = state.State.Active.ToArray();
        if (active.Length == 0 || maxMembers <= 0) return [];
        try
        {
            // One sweep's pack (or trial) per slot: the members of a pack share one sweep's frozen base.
            for (var i = 0; i < active.Length; i++)
            {
                var got = await GrainFactory.GetGrain<ISweepGrain>(active[(_cursor + i) % active.Length]).LeasePackAsync(worker, maxMembers, cancellationToken);
                if (got.Count > 0) return got;
            }
            return [];
        }
        finally
        {
            _cursor = (_cursor + 1) % Math.Max(1, active.Length);
        }
    }

    public Task<IReadOnlyList<string>> GetSweepsAsync(bool includeFinished, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<string>>((includeFinished ? state.State.Known : state.State.Active).ToList());

    public Task<IReadOnlyList<string>> GetWorkerIdsAsync(CancellationToken cancellationToken = default)
    {
        var cutoff = time.GetUtcNow() - options.Value.WorkerExpiry;
        return Task.FromResult<IReadOnlyList<string>>(_workersSeen.Where(w => w.Value >= cutoff).Select(w => w.Key).Order().ToList());
    }
}
