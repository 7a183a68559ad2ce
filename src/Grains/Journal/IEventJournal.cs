namespace Orchestrator.Grains.Journal;

/// <summary>
/// Append-only event streams: the durable state of sweeps and leaderboards. A grain appends an event in the same
/// call that changes its state and rebuilds the state by replaying the stream on activation. Appends are O(1),
/// which is what keeps per-trial bookkeeping under a millisecond (a whole-state write per change would be O(n)).
/// Embedded: one JSON-lines file per stream under the data directory. Cluster: one Redis list per stream.
/// </summary>
public interface IEventJournal
{
    /// <summary>Appends events in order; when this completes they survive a process kill.</summary>
    Task AppendAsync(string stream, IReadOnlyList<string> events, CancellationToken cancellationToken = default);

    /// <summary>Every complete event of the stream, in append order (a torn last record is ignored).</summary>
    Task<IReadOnlyList<string>> ReadAllAsync(string stream, CancellationToken cancellationToken = default);
}
