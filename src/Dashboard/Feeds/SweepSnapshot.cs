namespace Orchestrator.Dashboard.Feeds;

/// <summary>A sweep as this process last heard it: its status and every trial in sweep (grid) order.</summary>
public sealed record SweepSnapshot(SweepStatus Status, IReadOnlyList<TrialRecord> Trials, DateTimeOffset HeardAt);

/// <summary>What one poll changed: pushed to every browser watching the sweep.</summary>
public sealed record SweepUpdate(SweepStatus Status, IReadOnlyList<TrialRecord> Trials, bool Truncated);
