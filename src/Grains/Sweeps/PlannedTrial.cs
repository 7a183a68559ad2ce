using System.Text.Json;
using System.Text.Json.Serialization;
using Orchestrator.Grains.Scheduling;
using Orchestrator.Sweeps;

namespace Orchestrator.Grains.Sweeps;

/// <summary>One planned trial as journaled: its id, kind, the swept parameters (typed, file order), the trainer config exactly as leases send it, and its memory estimate.</summary>
public sealed record PlannedTrial(string Id, TrialKind Kind, IReadOnlyDictionary<string, ParameterValue> Parameters, JsonElement Config, long MemoryBytes)
{
    [JsonIgnore] public string ConfigJson => Config.GetRawText();

    /// <summary>Every trainer option of the config, typed, under the sweep file's keys.</summary>
    [JsonIgnore] public IReadOnlyDictionary<string, ParameterValue> ConfigValues => Config.EnumerateObject()
        .Where(p => p.Value.ValueKind != JsonValueKind.Null)
        .ToDictionary(p => p.Name, p => ParameterValue.FromJson(p.Value), StringComparer.Ordinal);

    public static PlannedTrial Of(TrialPlan plan) => new(plan.TrialId, plan.Kind, plan.Parameters,
        JsonSerializer.SerializeToElement(plan.Config), TrialMemoryEstimates.BytesFor(plan.Config));

    public static IReadOnlyList<PlannedTrial> Of(SweepSpec spec) => SweepExpander.Expand(spec).Select(Of).ToList();
}
