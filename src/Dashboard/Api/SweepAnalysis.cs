namespace Orchestrator.Dashboard.Api;

/// <summary>The sweep page's plots, computed from the cached trials of one snapshot.</summary>
public sealed record SweepAnalysis(
    string Metric, bool Maximize,
    IReadOnlyList<RankPoint> Lora, IReadOnlyList<RankPoint> FullFineTuning, IReadOnlyList<RankPoint> FrozenBase,
    IReadOnlyList<string> Dimensions, IReadOnlyList<ParallelLine> Lines,
    IReadOnlyList<ParameterImportance> Importance);

/// <summary>A finished trial's objective value at its LoRA rank (null for baselines, which the page draws as lines).</summary>
public sealed record RankPoint(string Id, double? Rank, double Score, bool Pruned);

/// <summary>One trial across the parallel-coordinates axes: each parameter's display value, then the metric.</summary>
public sealed record ParallelLine(string Id, string State, IReadOnlyList<string> Values, double Score);

/// <summary>
/// How much of the metric's variance one parameter explains alone: the correlation ratio η² = Var(E[y|x]) / Var(y)
/// over the finished trials that have the parameter, with a numeric parameter of more than 8 distinct values cut into 8 equal-count bins.
/// A simple, documented stand-in for fANOVA: it ignores interactions (η² of each parameter alone), and is 0 for a
/// parameter with one value. Shares are η² normalised to sum to 1.
/// </summary>
public sealed record ParameterImportance(string Parameter, double EtaSquared, double Share);

public static class SweepAnalyzer
{
    private const int Bins = 8;

    public static SweepAnalysis Analyze(IReadOnlyList<TrialRecord> trials, MetricObjective objective)
    {
        var scored = trials
            .Where(t => t.State is TrialState.Succeeded or TrialState.Pruned)
            .Select(t => (Trial: t, Score: t.Metric(objective.Name)))
            .Where(x => x.Score is { } s && double.IsFinite(s))
            .Select(x => (x.Trial, Score: x.Score!.Value))
            .ToList();
        RankPoint Point((TrialRecord Trial, double Score) x) =>
            new(x.Trial.TrialId, x.Trial.Value("rank")?.AsNumber, x.Score, x.Trial.Pruned);
        var lora = scored.Where(x => x.Trial.Kind == TrialKind.Lora).Select(Point).ToList();
        var full = scored.Where(x => x.Trial.Kind == TrialKind.Full).Select(Point).ToList();
        var frozen = scored.Where(x => x.Trial.Kind == TrialKind.Base).Select(Point).ToList();

        // Axes: parameters that take at least two values among the trials that have them (a baseline lacks `rank`).
        var dimensions = trials.SelectMany(t => t.Parameters.Keys).Distinct(StringComparer.Ordinal)
            .Where(p => scored.Select(x => x.Trial.Parameters.GetValueOrDefault(p)?.ToString()).OfType<string>().Distinct().Count() > 1)
            .ToList();
        var lines = scored.Select(x => new ParallelLine(x.Trial.TrialId, x.Trial.State.ToString().ToLowerInvariant(),
            dimensions.Select(d => x.Trial.Parameters.GetValueOrDefault(d)?.ToString() ?? "-").ToList(), x.Score)).ToList();

        var importance = dimensions.Select(d => (Parameter: d, Eta: EtaSquared(scored
                .Where(x => x.Trial.Parameters.ContainsKey(d))
                .Select(x => (x.Trial.Parameters.GetValueOrDefault(d), x.Score)).ToList())))
            .ToList();
        var sum = importance.Sum(i => i.Eta);
        return new SweepAnalysis(objective.Name, objective.Maximize, lora, full, frozen, dimensions, lines,
            importance.Select(i => new ParameterImportance(i.Parameter, i.Eta, sum > 0 ? i.Eta / sum : 0))
                .OrderByDescending(i => i.EtaSquared).ToList());
    }

    /// <summary>η² of the scores grouped by the parameter's value (numeric values in equal-count bins when many).</summary>
    public static double EtaSquared(IReadOnlyList<(ParameterValue? Value, double Score)> points)
    {
        if (points.Count < 2) return 0;
        var mean = points.Average(p => p.Score);
        var total = points.Sum(p => (p.Score - mean) * (p.Score - mean));
        if (total <= 0) return 0;
        var groups = Groups(points);
        var between = groups.Sum(g => g.Count * Math.Pow(g.Average() - mean, 2));
        return Math.Clamp(between / total, 0, 1);
    }

    private static List<List<double>> Groups(IReadOnlyList<(ParameterValue? Value, double Score)> points)
    {
        var distinct = points.Select(p => p.Value?.ToString() ?? "").Distinct().Count();
        if (distinct > Bins && points.All(p => p.Value?.AsNumber is not null))
        {
            var sorted = points.OrderBy(p => p.Value!.AsNumber!.Value).ToList();
            return sorted.Select((p, i) => (Bin: i * Bins / sorted.Count, p.Score))
                .GroupBy(x => x.Bin).Select(g => g.Select(x => x.Score).ToList()).ToList();
        }
        return points.GroupBy(p => p.Value?.ToString() ?? "").Select(g => g.Select(x => x.Score).ToList()).ToList();
    }
}
