namespace Orchestrator.Contracts.Trials;

/// <summary>The one rule that ends a heard metric history with a trial's result, for the sweep grain and metrics.jsonl alike.</summary>
public static class MetricHistory
{
    /// <summary>The points before the result's last step, then one point at it: the heard metrics there, overwritten by the result's.</summary>
    public static IReadOnlyList<MetricPoint> EndingWith(IReadOnlyList<MetricPoint> history, long steps, IReadOnlyDictionary<string, double> result)
    {
        var last = new Dictionary<string, double>();
        foreach (var point in history.Where(p => p.Step >= steps))
            foreach (var (k, v) in point.Metrics) last[k] = v;
        foreach (var (k, v) in result) last[k] = v;
        return [.. history.Where(p => p.Step < steps), new MetricPoint(steps, last)];
    }
}
