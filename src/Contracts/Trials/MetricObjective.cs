namespace Orchestrator.Contracts.Trials;

/// <summary>
/// A metric and its goal: the one place that decides which of two scores is better and orders results best first.
/// Missing and NaN scores always rank last; ties break by the caller's key (a trial id), so every view agrees.
/// Trials are ranked by <see cref="RankTrials"/>: finished trials before pruned ones (a pruned trial's score comes from
/// a shortened run, so it ranks below every finished trial, as TPE already treats it), which `status`, `watch`, the
/// leaderboards and the report all use, so they name the same best trial.
/// </summary>
[GenerateSerializer, Immutable, Alias("MetricObjective")]
public sealed record MetricObjective([property: Id(0)] string Name, [property: Id(1)] bool Maximize)
{
    /// <summary>Negative when <paramref name="a"/> is better than <paramref name="b"/>.</summary>
    public int Compare(double? a, double? b)
    {
        var aMissing = a is not { } x || double.IsNaN(x);
        var bMissing = b is not { } y || double.IsNaN(y);
        if (aMissing || bMissing) return aMissing.CompareTo(bMissing);
        return Maximize ? b!.Value.CompareTo(a!.Value) : a!.Value.CompareTo(b!.Value);
    }

    public bool IsBetter(double candidate, double? incumbent) => Compare(candidate, incumbent) < 0;

    /// <summary>
    /// Trials best first: scored trials before those without a score (missing and NaN last, as everywhere), among
    /// scored ones every finished trial before every pruned one, then by score, then by <paramref name="tieBreak"/>.
    /// The one ranking of trials.
    /// </summary>
    public IEnumerable<T> RankTrials<T>(IEnumerable<T> trials, Func<T, double?> score, Func<T, bool> pruned, Func<T, string> tieBreak) =>
        trials.Select(item => new Standing<T>(item, pruned(item), score(item), tieBreak(item)))
            .Order(Comparer<Standing<T>>.Create(CompareStandings))
            .Select(p => p.Item);

    /// <summary>
    /// The first trial of <see cref="RankTrials"/> that has a score, or null: the sweep's best trial. One pass, no sort:
    /// `status` asks for it on every poll of a 10,000-trial sweep.
    /// </summary>
    public T? BestTrial<T>(IEnumerable<T> trials, Func<T, double?> score, Func<T, bool> pruned, Func<T, string> tieBreak) where T : class
    {
        Standing<T>? best = null;
        foreach (var trial in trials)
        {
            var candidate = new Standing<T>(trial, pruned(trial), score(trial), tieBreak(trial));
            if (Missing(candidate.Score)) continue;
            if (best is not { } b || CompareStandings(candidate, b) < 0) best = candidate;
        }
        return best?.Item;
    }

    private readonly record struct Standing<T>(T Item, bool Pruned, double? Score, string Key);

    private int CompareStandings<T>(Standing<T> p, Standing<T> q)
    {
        if (!Missing(p.Score) && !Missing(q.Score) && p.Pruned != q.Pruned) return p.Pruned ? 1 : -1;
        var byScore = Compare(p.Score, q.Score);
        return byScore != 0 ? byScore : string.CompareOrdinal(p.Key, q.Key);
    }

    private static bool Missing(double? score) => score is not { } s || double.IsNaN(s);
}
