using System.Text.Json;
using System.Text.Json.Serialization;
using Orchestrator.Grains.Scheduling;
using Orchestrator.Sweeps;
using Orchestrator.Sweeps.EarlyStopping;
using Orchestrator.Sweeps.Search;

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

    /// <summary>The JSON a lease carries for the base (<c>null</c> when there is none).</summary>
    [JsonIgnore] public string BaseJson => Base is { } b ? b.GetRawText() : "null";

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

/// <summary>
/// What a bayes sweep's suggestions need, decided at submission and journaled: the sweep name and master seed (trial
/// ids and trainer seeds derive from them exactly as in a grid), the run cap at submission, and the search space.
/// </summary>
public sealed record BayesSearch(string Sweep, long Seed, int RunCap, SearchSpace Space)
{
    public static BayesSearch Of(SweepSpec spec) => new(spec.Name, spec.Seed, spec.RunCap, SearchSpace.Of(spec));
}

/// <summary>
/// The early-stopping rule as journaled: a flat, typed record whose fields are fixed here, independent of how the
/// sweep file spells them. The policy is rebuilt from it on replay.
/// </summary>
public sealed record EarlyStoppingRule(string Type, int MinIter = 0, int MaxIter = 0, int Eta = 0, int Brackets = 0, int MinTrials = 0, int StartIter = 0)
{
    /// <summary>The rule in words, as a prune decision names it: "asha(min_iter 1, max_iter 9, eta 3, brackets 1)".</summary>
    public string Description => Type == "median"
        ? $"median(min_trials {MinTrials}, start_iter {StartIter})"
        : $"{Type}(min_iter {MinIter}, max_iter {MaxIter}, eta {Eta}, brackets {Brackets})";

    public static EarlyStoppingRule? Of(EarlyTerminationSpec? spec) => spec switch
    {
        null => null,
        AshaSpec a => new("asha", MinIter: a.MinIter, MaxIter: a.MaxIter, Eta: a.Eta, Brackets: a.Brackets),
        HyperbandSpec h => new("hyperband", MinIter: h.MinIter, MaxIter: h.MaxIter, Eta: h.Eta, Brackets: h.Brackets),
        MedianStopSpec m => new("median", MinTrials: m.MinTrials, StartIter: m.StartIter),
        _ => throw new ArgumentException($"early termination {spec.GetType().Name} has no journal form yet; add it to {nameof(EarlyStoppingRule)}", nameof(spec)),
    };

    public EarlyStoppingPolicy CreatePolicy(MetricGoal goal) => EarlyStoppingPolicy.Create(Type switch
    {
        "asha" => new AshaSpec(MinIter, MaxIter, Eta, Brackets),
        "hyperband" => new HyperbandSpec(MinIter, MaxIter, Eta, Brackets),
        "median" => new MedianStopSpec(MinTrials, StartIter),
        _ => throw new InvalidOperationException($"the journal names an unknown early-stopping rule '{Type}'"),
    }, goal);
}

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

/// <summary>The events a submission journals, built from a parsed spec.</summary>
public static class SweepPlans
{
    public static SweepSubmitted Submitted(DateTimeOffset at, SweepSpec spec)
    {
        var canonical = CanonicalSpec.Of(spec);
        return new SweepSubmitted(at, spec.SourceText, spec.SourceName, canonical.Hash, JsonDocument.Parse(canonical.Json).RootElement.Clone(),
            SweepSettings.Of(spec), PlannedTrial.Of(spec));
    }

    /// <summary>The canonical spec a submission recorded (null in a legacy journal).</summary>
    public static CanonicalSpec? CanonicalOf(SweepSubmitted submitted) =>
        submitted is { SpecHash: { } hash, Spec: { } json } ? new CanonicalSpec(json.GetRawText(), hash) : null;
}
