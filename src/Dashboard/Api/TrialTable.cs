using System.Globalization;
using Orchestrator.Contracts.Leaderboards;

namespace Orchestrator.Dashboard.Api;

/// <summary>One page of a sweep's trial table.</summary>
public sealed record TrialPage(int Total, int Matched, int Offset, IReadOnlyList<TrialRow> Rows);

/// <summary>
/// A trial as a table row: parameters typed (numbers as numbers, lists as lists: the same JSON as the CLI's `--json`),
/// the objective's value, the latest metrics, and the pack of its current (or last) attempt (null: it trained alone), as
/// `trials --json` shows it.
/// </summary>
public sealed record TrialRow(
    string Id, string Kind, string State, int Attempts, string? Worker, long Step, long TotalSteps, double? Score,
    IReadOnlyDictionary<string, ParameterValue> Parameters, IReadOnlyDictionary<string, double> Metrics, string? Error,
    long? PeakMemoryBytes = null, string? Pack = null);

/// <summary>
/// The sweep page's table: filtered with the `leaderboard --where` language (<see cref="LeaderboardFilter"/>: one
/// rule in one place, plus `state`), sorted by any field it resolves, paged. Runs over this process's cached
/// snapshot, never against the grain, so paging a 10,000-trial sweep costs a sort of 10,000 keys.
/// </summary>
public static class TrialTable
{
    public const int MaxPageSize = 500;

    /// <exception cref="FilterSyntaxException">A bad filter or an unknown field; the message says what is allowed.</exception>
    public static TrialPage Query(IReadOnlyList<TrialRecord> trials, MetricObjective objective, string? where, string? sort, bool descending, int offset, int limit)
    {
        var filter = LeaderboardFilter.Parse(where);
        var entries = trials.Select(t => new LeaderboardEntry(t, objective, default)).ToList();
        filter.CheckFields(entries);
        var matched = filter.Conditions.Count == 0 ? entries : entries.Where(filter.Matches).ToList();
        IEnumerable<LeaderboardEntry> ordered = matched;
        if (!string.IsNullOrWhiteSpace(sort))
        {
            var keyed = matched.Select(e => (Entry: e, Key: SortKey.Of(LeaderboardFilter.Resolve(e, sort)))).ToList();
            // Stable, and trials without the field last in either direction.
            keyed.Sort((a, b) => a.Key.Missing != b.Key.Missing ? a.Key.Missing.CompareTo(b.Key.Missing)
                : (descending ? -1 : 1) * a.Key.CompareTo(b.Key));
            ordered = keyed.Select(k => k.Entry);
        }
        offset = Math.Max(0, offset);
        limit = Math.Clamp(limit, 1, MaxPageSize);
        var rows = ordered.Skip(offset).Take(limit).Select(e => Row(e.Trial, e.Score)).ToList();
        return new TrialPage(trials.Count, matched.Count, offset, rows);
    }

    public static TrialRow Row(TrialRecord t, double? score) => new(
        t.TrialId, t.Kind.Name(), t.State.ToString().ToLowerInvariant(), t.Attempts, t.Worker, t.Step, t.TotalSteps, score,
        t.Parameters, t.Metrics, t.Error, t.PeakMemoryBytes, t.Pack);

    private readonly record struct SortKey(bool Missing, bool IsNumber, double Number, string Text) : IComparable<SortKey>
    {
        public static SortKey Of(string? text) =>
            text is null ? new(true, false, 0, "")
            : LeaderboardFilter.TryNumber(text, out var n) ? new(false, true, n, text)
            : new(false, false, 0, text);

        public int CompareTo(SortKey other) =>
            IsNumber && other.IsNumber ? Number.CompareTo(other.Number)
            : IsNumber != other.IsNumber ? IsNumber ? -1 : 1
            : string.Compare(Text, other.Text, StringComparison.Ordinal);
    }

    internal static string Invariant(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
