using System.Text.Json;
using System.Text.Json.Serialization;
using Orchestrator.Sweeps;
using Orchestrator.Sweeps.EarlyStopping;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Grains.Sweeps;

/// <summary>What the ledger and a lease need of a sweep's spec, decided once at submission and journaled.</summary>
/// <param name="Base">The trainer's base model spec as it goes into every lease (null: none).</param>
/// <param name="Search">A bayes sweep's search (null for grid and random, whose trials are all planned at submission).</param>
/// <param name="Objectives">Every objective of the file (`metrics:`), the first being Metric; null in journals from before they were recorded.</param>
/// <param name="DisplayName">The sweep's name as the file wrote it; null in journals from before it was recorded.</param>
public sealed record SweepSettings(
    string Model, string Dataset, JsonElement? Base, string Metric, bool Maximize, int Parallel, int MaxFailures,
    EarlyStoppingRule? EarlyStopping, BayesSearch? Search = null, string? Pack = null, bool JournalsDecisions = false,
    IReadOnlyList<MetricObjective>? Objectives = null, string? DisplayName = null)
{
    /// <summary>The sweep's `pack` (journaled as the sweep file writes it; null in journals from before packing: off).</summary>
    [JsonIgnore] public PackSetting PackSetting => PackSetting.Parse(Pack);

    [JsonIgnore] public MetricGoal Goal => Maximize ? MetricGoal.Maximize : MetricGoal.Minimize;

    [JsonIgnore] public MetricObjective Objective => new(Metric, Maximize);

    /// <summary>The JSON of the base (<c>null</c> when there is none), as the sweep's view shows it.</summary>
    [JsonIgnore] public string BaseJson => Base is { } b ? b.GetRawText() : "null";

    /// <summary>The base every lease carries, typed (no base: an empty spec).</summary>
    [JsonIgnore] public BaseModelSpec BaseSpec => Base?.Deserialize<BaseModelSpec>() ?? new BaseModelSpec();

    public static SweepSettings Of(SweepSpec spec) => new(
        spec.Task.Model, spec.Task.Dataset,
        spec.Task.Base is null ? null : JsonSerializer.SerializeToElement(spec.Task.Base),
        spec.Metric.Name, spec.Metric.Goal == MetricGoal.Maximize, spec.Parallel, spec.MaxFailures,
        EarlyStoppingRule.Of(spec.EarlyTerminate), spec.Method == SweepMethod.Bayes ? BayesSearch.Of(spec) : null,
        spec.Pack.Mode == PackMode.Off ? null : spec.Pack.ToString(), JournalsDecisions: true,
        ObjectivesOf(spec), spec.DisplayName.Length > 0 ? spec.DisplayName : spec.Name);

    /// <summary>The file's objectives as journaled: `metrics:` in order, or the one `metric:`.</summary>
    public static IReadOnlyList<MetricObjective> ObjectivesOf(SweepSpec spec) =>
        (spec.Objectives.Count > 0 ? spec.Objectives : [spec.Metric]).Select(o => new MetricObjective(o.Name, o.Goal == MetricGoal.Maximize)).ToList();
}
