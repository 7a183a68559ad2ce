using System.Globalization;
using Orchestrator.Contracts.Leaderboards;

namespace Orchestrator.Grains.Leaderboards;

/// <summary>
/// The flat leaderboard record journaled before entries carried a <see cref="TrialRecord"/> (parameters as display
/// strings). Read so that older leaderboards keep every entry; never written.
/// </summary>
internal sealed record LegacyLeaderboardEntry(
    string Sweep,
    string TrialId,
    string Kind,
    IReadOnlyDictionary<string, string>? Parameters,
    IReadOnlyDictionary<string, double>? Metrics,
    string Metric,
    bool Maximize,
    long TrainableParameters,
    bool Pruned,
    DateTimeOffset RecordedAt)
{
    public static LeaderboardEntry Upgrade(LegacyLeaderboardEntry old)
    {
        var parameters = (old.Parameters ?? new Dictionary<string, string>())
            .ToDictionary(kv => kv.Key, kv => Typed(kv.Value), StringComparer.Ordinal);
        var trial = new TrialRecord(old.Sweep, old.TrialId, TrialKinds.TryParse(old.Kind, out var kind) ? kind : TrialKind.Lora,
            parameters, new Dictionary<string, ParameterValue>(), old.Pruned ? TrialState.Pruned : TrialState.Succeeded,
            Attempts: 1, Worker: null, Step: 0, TotalSteps: 0, old.Metrics ?? new Dictionary<string, double>(), Error: null,
            old.TrainableParameters, TotalParameters: 0, ElapsedSeconds: 0, AdapterSha256: null);
        return new LeaderboardEntry(trial, new MetricObjective(old.Metric, old.Maximize), old.RecordedAt);
    }

    /// <summary>Display strings back to values: numbers and flags as such, anything else as text.</summary>
    private static ParameterValue Typed(string text) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? ParameterValue.Of(l)
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? ParameterValue.Of(d)
        : text is "true" or "false" ? ParameterValue.Of(text == "true")
        : ParameterValue.Of(text);
}
