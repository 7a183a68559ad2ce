using Orchestrator.Contracts.Trials;
using Orchestrator.Sweeps;

namespace Orchestrator.Client.Leaderboards;

/// <summary>One objective of a Pareto front: a reported metric, or one every trial has (trainable_params, train_seconds).</summary>
public sealed record ParetoObjective(string Name, bool Maximize)
{
    /// <summary>The trial's value of this objective; null when it has none (it then stays off the front).</summary>
    public double? Of(TrialRecord trial) => Name switch
    {
        SystemObjectives.TrainableParams => trial.TrainableParameters,
        SystemObjectives.TrainSeconds => trial.ElapsedSeconds,
        SystemObjectives.PeakMemoryBytes => trial.PeakMemoryBytes,
        _ => trial.Metric(Name),
    };

    public override string ToString() => $"{Name} ({(Maximize ? "max" : "min")})";
}

/// <summary>
/// The non-dominated trials: none of the others is at least as good on every objective and better on one. LoRA's
/// natural pair is quality against trainable parameters, the default when a sweep names a single metric.
/// </summary>
public static class ParetoFront
{
    /// <summary>The sweep's objectives (`metrics:`), or its metric and trainable_params when it has one.</summary>
    public static IReadOnlyList<ParetoObjective> Objectives(string yaml, string fileName, string metric, bool maximize)
    {
        try
        {
            var spec = SweepFile.Parse(yaml, fileName);
            if (spec.Objectives.Count > 1) return spec.Objectives.Select(o => new ParetoObjective(o.Name, o.Goal == MetricGoal.Maximize)).ToList();
        }
        catch (SweepValidationException)
        {
            // A spec this version reads differently still has its journaled metric.
        }
        return [new ParetoObjective(metric, maximize), new ParetoObjective(SystemObjectives.TrainableParams, Maximize: false)];
    }

    public static IReadOnlyList<T> Of<T>(IReadOnlyList<T> items, Func<T, TrialRecord> trial, IReadOnlyList<ParetoObjective> objectives)
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
