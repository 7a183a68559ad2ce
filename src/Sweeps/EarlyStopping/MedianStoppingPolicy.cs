namespace Orchestrator.Sweeps.EarlyStopping;

/// <summary>
/// Median stopping (Golovin et al. 2017, as Katib and Optuna's MedianPruner use it): from iteration start_iter on,
/// a trial stops when its best metric so far is strictly worse than the median of the completed trials' best
/// metrics up to the same iteration, counting only completed trials that reported at or before it, and only
/// once there are at least min_trials of them. Pruned trials are not "completed" and never count.
/// </summary>
internal sealed class MedianStoppingPolicy(MetricGoal goal, int minTrials, int startIter) : EarlyStoppingPolicy(goal)
{
    private readonly Dictionary<string, double> _bestSoFar = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<(int Iteration, double Score)>> _reports = new(StringComparer.Ordinal);
    private readonly List<(int Iteration, double Score)[]> _completed = [];

    protected override Decision OnReport(string trialId, int iteration, double score)
    {
        if (!_reports.TryGetValue(trialId, out var list)) _reports[trialId] = list = [];
        list.Add((iteration, score));
        var best = _bestSoFar[trialId] = _bestSoFar.TryGetValue(trialId, out var b) ? Math.Max(b, score) : score;
        if (iteration < startIter) return Decision.Continue;

        var others = new List<double>();
        foreach (var curve in _completed)
        {
            double? m = null;
            foreach (var (it, s) in curve)
                if (it <= iteration) m = m is null ? s : Math.Max(m.Value, s);
            if (m is not null) others.Add(m.Value);
        }
        if (others.Count < minTrials) return Decision.Continue;
        return best < Median(others) ? Decision.Stop : Decision.Continue;
    }

    protected override void OnCompleted(string trialId, IReadOnlyList<(int Iteration, double Score)> curve)
    {
        var points = curve.Count > 0 ? curve.ToArray() : _reports.GetValueOrDefault(trialId)?.ToArray() ?? [];
        if (points.Length > 0) _completed.Add(points);
    }

    protected override void Reset()
    {
        _bestSoFar.Clear();
        _reports.Clear();
        _completed.Clear();
    }

    internal static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
