using Orchestrator.Contracts.Trials;

namespace Orchestrator.Contracts.Leaderboards;

/// <summary>
/// Ranked results, keyed "sweep/{name}" for one sweep or "global/{model}|{dataset}|{metric}" across sweeps.
/// Recording is idempotent by entry key: a trial appears once, whatever the retries.
/// </summary>
[Alias("leaderboard")]
public interface ILeaderboardGrain : IGrainWithStringKey
{
    /// <summary>Adds entries not seen before; returns how many were new.</summary>
    [Alias("record")] Task<int> RecordAsync(IReadOnlyList<LeaderboardEntry> entries, CancellationToken cancellationToken = default);
    [Alias("top")] Task<IReadOnlyList<LeaderboardEntry>> GetAsync(int top, CancellationToken cancellationToken = default);

    static string SweepKey(string sweep) => $"sweep/{sweep}";
    static string GlobalKey(string model, string dataset, string metric) => $"global/{model}|{dataset}|{metric}";
}

/// <summary>A finished (or pruned) trial on a leaderboard: the trial record and the objective it is ranked by.</summary>
[GenerateSerializer, Immutable, Alias("LeaderboardEntry")]
public sealed record LeaderboardEntry(
    [property: Id(0)] TrialRecord Trial,
    [property: Id(1)] MetricObjective Objective,
    [property: Id(2)] DateTimeOffset RecordedAt)
{
    public string Key => $"{Trial.Sweep}/{Trial.TrialId}";
    public double? Score => Trial.Metric(Objective.Name);
}
