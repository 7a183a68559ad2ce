using Orchestrator.Contracts.Sweeps;
using Orchestrator.Contracts.Trials;

namespace Orchestrator.Sweeps.Pareto;

/// <summary>The objectives a trial is scored on: a reported metric, or one every trial has (trainable_params, train_seconds).</summary>
public static class TrialObjectives
{
    /// <summary>The trial's value of this objective; null when it has none (it then stays off the front).</summary>
    public static double? Of(this MetricObjective objective, TrialRecord trial) => objective.Name switch
    {
        SystemObjectives.TrainableParams => trial.TrainableParameters,
        SystemObjectives.TrainSeconds => trial.ElapsedSeconds,
        SystemObjectives.PeakMemoryBytes => trial.PeakMemoryBytes,
        _ => trial.Metric(objective.Name),
    };

    /// <summary>"test_accuracy (max)".</summary>
    public static string Describe(this MetricObjective objective) => $"{objective.Name} ({(objective.Maximize ? "max" : "min")})";

    public static string Describe(this IEnumerable<MetricObjective> objectives) => string.Join(" and ", objectives.Select(o => o.Describe()));
}

/// <summary>
/// The non-dominated trials: none of the others is at least as good on every objective and better on one. LoRA's
/// natural pair is quality against trainable parameters, the default when a sweep names a single metric.
/// </summary>
public static class ParetoFront
{
    /// <summary>The sweep's objectives as journaled (`metrics:`), or its metric and trainable_params when it has one.</summary>
    public static IReadOnlyList<MetricObjective> Objectives(SweepSpecView spec) =>
        spec.AllObjectives.Count > 1 ? spec.AllObjectives : [spec.Objective, new MetricObjective(SystemObjectives.TrainableParams, Maximize: false)];

    public static IReadOnlyList<T> Of<T>(IReadOnlyList<T> items, Func<T, TrialRecord> trial, IReadOnlyList<MetricObjective> objectives)
    {
        var scored = items.Select(i => (Item: i, Values: objectives.Select(o => o.Of(trial(i)) is { } v ? (o.Maximize ? v : -v) : (double?)null).ToArray()))
            .Where(s => s.Values.All(v => v is not null && double.IsFinite(v.Value)))
            .Select(s => (s.Item, Values: s.Values.Select(v => v!.Value).ToArray()))
            .ToList();
        return scored.Where(a => !scored.Any(b => Dominates(b.Values, a.Values))).Select(a => a.Item).ToList();
    }

    /// <summary>b dominates a: at least as good everywhere (higher is better here), better somewhere.</summary>
    private static bool Dominates(double[] b, double[] a)
    {
        bool better = false;
        for (int i = 0; i < a.Length; i++)
        {
            if (b[i] < a[i]) return false;
            if (b[i] > a[i]) better = true;
        }
        return better;
    }
}
