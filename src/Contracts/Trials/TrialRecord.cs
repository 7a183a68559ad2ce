using Orchestrator.Contracts.Sweeps;

namespace Orchestrator.Contracts.Trials;

/// <summary>
/// One trial as every reader sees it (`trials`, `watch`, leaderboards, the report, the manifest, `reproduce`):
/// typed, so no view re-parses JSON or display strings. <see cref="Parameters"/> are the swept values in file order
/// (a `seed` parameter is the repeat index); <see cref="Config"/> is every trainer option the trial ran with
/// (its `seed` is the trainer seed), keyed by the sweep file's names.
/// </summary>
[GenerateSerializer, Immutable, Alias("TrialRecord")]
public sealed record TrialRecord(
    [property: Id(0)] string Sweep,
    [property: Id(1)] string TrialId,
    [property: Id(2)] TrialKind Kind,
    [property: Id(3)] IReadOnlyDictionary<string, ParameterValue> Parameters,
    [property: Id(4)] IReadOnlyDictionary<string, ParameterValue> Config,
    [property: Id(5)] TrialState State,
    [property: Id(6)] int Attempts,
    [property: Id(7)] string? Worker,
    [property: Id(8)] long Step,
    [property: Id(9)] long TotalSteps,
    [property: Id(10)] IReadOnlyDictionary<string, double> Metrics,
    [property: Id(11)] string? Error,
    [property: Id(12)] long TrainableParameters,
    [property: Id(13)] long TotalParameters,
    [property: Id(14)] double ElapsedSeconds,
    [property: Id(15)] string? AdapterSha256,
    [property: Id(16)] string? Pack = null,
    [property: Id(17)] long? PeakMemoryBytes = null)
{
    public bool Pruned => State == TrialState.Pruned;

    /// <summary>The value of a metric, matched exactly first and then ignoring case; null when the trial has none.</summary>
    public double? Metric(string name)
    {
        if (Metrics.TryGetValue(name, out var value)) return value;
        foreach (var (key, v) in Metrics)
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase)) return v;
        return null;
    }

    /// <summary>A swept parameter, else the trainer option of that name (e.g. `rank` of a trial that did not sweep it).</summary>
    public ParameterValue? Value(string key) =>
        Parameters.TryGetValue(key, out var swept) ? swept : Config.TryGetValue(key, out var configured) ? configured : null;
}
