using Orchestrator.Dashboard.Importance;

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

public static class SweepAnalyzer
{
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

        // Importance from completed trials only (as Optuna's): a pruned trial's score is an early, lower reading.
        var importance = ForestImportance.Evaluate(
            [.. scored.Where(x => !x.Trial.Pruned).Select(x => ((IReadOnlyDictionary<string, ParameterValue>)x.Trial.Parameters, x.Score))], dimensions);
        return new SweepAnalysis(objective.Name, objective.Maximize, lora, full, frozen, dimensions, lines, importance);
    }
}
