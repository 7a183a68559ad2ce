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

[GenerateSerializer, Immutable, Alias("LeaderboardEntry")]
public sealed record LeaderboardEntry(
    [property: Id(0)] string Sweep,
    [property: Id(1)] string TrialId,
    [property: Id(2)] string Kind,
    [property: Id(3)] IReadOnlyDictionary<string, string> Parameters,
    [property: Id(4)] IReadOnlyDictionary<string, double> Metrics,
    [property: Id(5)] string Metric,
    [property: Id(6)] bool Maximize,
    [property: Id(7)] long TrainableParameters,
    [property: Id(8)] bool Pruned,
    [property: Id(9)] DateTimeOffset RecordedAt)
{
    public string Key => $"{Sweep}/{TrialId}";
    public double? Score => Metrics.TryGetValue(Metric, out var v) ? v : null;
}
