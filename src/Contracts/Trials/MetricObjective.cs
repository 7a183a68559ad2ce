namespace Orchestrator.Contracts.Trials;

/// <summary>
/// A metric and its goal: the one place that decides which of two scores is better and orders results best first.
/// Missing and NaN scores always rank last; ties break by the caller's key (a trial id), so every view agrees.
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

    /// <summary>Best first; missing scores last; ties by <paramref name="tieBreak"/> (ordinal).</summary>
    public IEnumerable<T> OrderBest<T>(IEnumerable<T> items, Func<T, double?> score, Func<T, string> tieBreak) =>
        items.Select(item => (Item: item, Score: score(item), Key: tieBreak(item)))
            .Order(Comparer<(T Item, double? Score, string Key)>.Create((p, q) =>
            {
                var byScore = Compare(p.Score, q.Score);
                return byScore != 0 ? byScore : string.CompareOrdinal(p.Key, q.Key);
            }))
            .Select(p => p.Item);

    /// <summary>The best item that has a score, or null.</summary>
    public T? Best<T>(IEnumerable<T> items, Func<T, double?> score, Func<T, string> tieBreak) where T : class =>
        OrderBest(items.Where(i => score(i) is { } s && !double.IsNaN(s)), score, tieBreak).FirstOrDefault();
}
