using Orchestrator.Sweeps;
using Orchestrator.Sweeps.Pareto;

namespace Orchestrator.Dashboard.Api;

/// <summary>One axis of the Pareto view: an objective and which way is better.</summary>
public sealed record ParetoAxis(string Name, bool Maximize);

/// <summary>A finished trial on the two chosen objectives; <see cref="OnFront"/> when no other trial beats it on both.</summary>
public sealed record ParetoPoint(string Id, string Kind, double X, double Y, bool OnFront);

/// <summary>
/// The sweep page's Pareto view: the sweep's objectives (`metrics:`, or its metric and trainable_params), the ones
/// every trial has (trainable_params, train_seconds, and peak_memory_bytes once trials report it) to choose from, and
/// the finished trials on the chosen two with the front marked (<see cref="ParetoFront"/>, the rule `leaderboard --pareto` uses).
/// </summary>
public sealed record ParetoView(IReadOnlyList<ParetoAxis> Choices, ParetoAxis X, ParetoAxis Y, IReadOnlyList<ParetoPoint> Points);

public static class ParetoViews
{
    /// <summary>Reported by trials once they measure it (another engineer's work): offered only when some trial has it.</summary>
    public const string PeakMemory = "peak_memory_bytes";

    /// <summary>The view on <paramref name="x"/> and <paramref name="y"/> (default: the sweep's first two objectives).</summary>
    /// <exception cref="ArgumentException">An axis that is not one of the choices; the message names those.</exception>
    public static ParetoView Of(SweepSpecView? spec, MetricObjective objective, IReadOnlyList<TrialRecord> trials, string? x, string? y)
    {
        var objectives = spec is null
            ? [objective, new MetricObjective(SystemObjectives.TrainableParams, false)]
            : ParetoFront.Objectives(spec);
        var choices = objectives
            .Concat(SystemObjectives.All.Select(n => new MetricObjective(n, Maximize: false)))
            .Concat(trials.Any(t => t.Metrics.ContainsKey(PeakMemory)) ? [new MetricObjective(PeakMemory, false)] : [])
            .DistinctBy(o => o.Name)
            .ToList();
        MetricObjective Pick(string? name, MetricObjective fallback) => name is null or "" ? fallback
            : choices.FirstOrDefault(c => c.Name == name)
              ?? throw new ArgumentException($"'{name}' is not an objective of this sweep; choose one of {string.Join(", ", choices.Select(c => c.Name))}");
        var (yAxis, xAxis) = (Pick(y, objectives[0]), Pick(x, objectives[1]));

        var done = trials.Where(t => t.State is TrialState.Succeeded or TrialState.Pruned && xAxis.Of(t) is { } a && double.IsFinite(a) && yAxis.Of(t) is { } b && double.IsFinite(b)).ToList();
        var front = ParetoFront.Of(done, t => t, [yAxis, xAxis]).Select(t => t.TrialId).ToHashSet(StringComparer.Ordinal);
        return new ParetoView(
            choices.Select(Axis).ToList(), Axis(xAxis), Axis(yAxis),
            done.Select(t => new ParetoPoint(t.TrialId, t.Kind.ToString().ToLowerInvariant(), xAxis.Of(t)!.Value, yAxis.Of(t)!.Value, front.Contains(t.TrialId))).ToList());
    }

    private static ParetoAxis Axis(MetricObjective o) => new(o.Name, o.Maximize);
}
