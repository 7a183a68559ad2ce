using System.Runtime.CompilerServices;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Contracts.Trials;
using Orchestrator.Sweeps.Search;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Sweeps;

/// <summary>
/// One trial to run: a stable id, its kind, the swept parameters in file order with their typed values (a `seed`
/// parameter is the repeat index), and the trainer config.
/// </summary>
public sealed record TrialPlan(string TrialId, TrialKind Kind, IReadOnlyDictionary<string, ParameterValue> Parameters, TrainingConfig Config);

/// <summary>
/// Turns a sweep into trials. Everything is a pure function of the spec:
/// <list type="bullet">
/// <item>Grid: the cartesian product in file order (the first parameter varies slowest), then the first run_cap
/// trials. run_cap is an upper bound, so raising it only appends trials and never changes earlier ones.</item>
/// <item>Random: run_cap draws from <see cref="SplitMix64"/> seeded by the master seed; duplicates removed.</item>
/// <item>Baselines (not counted in run_cap): `full` adds one full fine-tuning trial per distinct combination of
/// the non-LoRA parameters, `base` one frozen-base evaluation per value of the `seed` parameter (for text
/// classification, where the frozen base's head trains as a linear probe, one per combination as `full`).</item>
/// <item>Trial id: "t" + the first 12 hex digits of sha256("name\nkind=K\n" + sorted "key=value\n" lines).</item>
/// <item>Seeds: a `seed` parameter is a repeat index, not the trainer seed. The trainer seed is a hash of the
/// master seed and the trial's id material, so the same spec always gives the same seeds, whatever the order or
/// number of workers, and changing the master seed changes every trial's seed.</item>
/// </list>
/// </summary>
public static class SweepExpander
{
    private static readonly JsonSerializerOptions Json = new();

    /// <summary>Expansions by spec instance: validation expands a parsed spec, and its submission must not do it again.</summary>
    private static readonly ConditionalWeakTable<SweepSpec, IReadOnlyList<TrialPlan>> Expanded = new();

    /// <summary>The spec's trials; computed once per spec instance (specs are immutable).</summary>
    public static IReadOnlyList<TrialPlan> Expand(SweepSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return Expanded.GetValue(spec, ExpandOnce);
    }

    /// <summary>
    /// <paramref name="spec"/> under another source name (a file's name rather than its path). The source does not
    /// enter the trials, so the copy keeps the expansion already made of <paramref name="spec"/> (by its validation).
    /// </summary>
    public static SweepSpec WithSourceName(SweepSpec spec, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var renamed = spec with { SourceName = sourceName };
        if (Expanded.TryGetValue(spec, out var trials)) Expanded.AddOrUpdate(renamed, trials);
        return renamed;
    }

    private static IReadOnlyList<TrialPlan> ExpandOnce(SweepSpec spec)
    {
        // Bayes plans nothing up front: the sweep grain suggests each trial as results arrive (see TpeSampler).
        var combos = spec.Method switch { SweepMethod.Grid => Grid(spec), SweepMethod.Random => Random(spec), _ => [] };

        var trials = new List<TrialPlan>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        bool AddTrial(TrialKind kind, List<KeyValuePair<string, JsonNode>> values)
        {
            var plan = Plan(spec, kind, values);
            if (!ids.Add(plan.TrialId)) return false;
            trials.Add(plan);
            return true;
        }

        var swept = new List<List<KeyValuePair<string, JsonNode>>>();
        foreach (var combo in combos)
        {
            if (swept.Count >= spec.RunCap) break;
            if (AddTrial(KindOf(combo), combo)) swept.Add(combo);
        }
        if (spec.Baselines.Contains(BaselineKind.Full))
            foreach (var combo in swept)
                AddTrial(TrialKind.Full, WithBaselineValues(spec, BaselineKind.Full, combo.Where(kv => !TrainerParameters.All[kv.Key].LoraOnly)));
        if (spec.Baselines.Contains(BaselineKind.Base))
        {
            // A frozen encoder still trains its classification head (a linear probe), so it trains like the others;
            // any other frozen base only evaluates, once per repeat, on the same examples as the others (what
            // shapes the evaluated data stays: a decoder's prompts cut at another seq_len would be other examples).
            var probeTrains = MetricNames.TaskOf(spec.Task.Model, spec.Task.Dataset) == TaskKind.TextClassification;
            foreach (var combo in swept)
                AddTrial(TrialKind.Base, WithBaselineValues(spec, BaselineKind.Base,
                    combo.Where(kv => kv.Key == "seed" || EvaluatedDataKeys.Contains(kv.Key) || (probeTrains && !TrainerParameters.All[kv.Key].LoraOnly))));
        }
        return trials;
    }

    /// <summary>The parameters that decide which examples a frozen base is evaluated on, and how they are scored.</summary>
    private static readonly HashSet<string> EvaluatedDataKeys = new(StringComparer.Ordinal)
    {
        "seq_len", "max_eval_samples", "completion_only_loss", "assistant_only_loss", "chat_template",
    };

    /// <summary>A baseline's parameters: the swept ones, with the values the sweep gives that baseline in their place (or added after them).</summary>
    private static List<KeyValuePair<string, JsonNode>> WithBaselineValues(SweepSpec spec, BaselineKind kind, IEnumerable<KeyValuePair<string, JsonNode>> swept)
    {
        var values = swept.ToList();
        if (!spec.BaselineParameters.TryGetValue(kind, out var given)) return values;
        foreach (var (key, value) in given)
        {
            var at = values.FindIndex(kv => kv.Key == key);
            if (at >= 0) values[at] = new(key, value.DeepClone());
            else values.Add(new(key, value.DeepClone()));
        }
        return values;
    }

    /// <summary>
    /// Trials drawn from the parameters' priors, as a random sweep of the same run_cap would: what validation checks
    /// a bayes sweep's configs with, since its trials are only suggested while it runs.
    /// </summary>
    public static IReadOnlyList<TrialPlan> PriorSample(SweepSpec spec) => Expand(spec with { Method = SweepMethod.Random, Baselines = [] });

    /// <summary>The trial of a suggested set of parameters (file order): the same id, seed and config a grid or random sweep would give it.</summary>
    public static TrialPlan PlanOf(string sweep, long seed, string model, string dataset, IReadOnlyList<KeyValuePair<string, JsonNode>> values)
    {
        return Plan(sweep, seed, model, dataset, KindOf(values), values.ToList());
    }

    private static IEnumerable<List<KeyValuePair<string, JsonNode>>> Grid(SweepSpec spec)
    {
        var axes = spec.Parameters.Select(p => (p.Key, Values: p.Value switch
        {
            FixedParameter f => [f.Value],
            PerRankParameter r => [PerRankNode(r)],
            ValuesParameter v => v.Values,
            _ => throw new ArgumentException($"parameter {p.Key} has a distribution, which a grid cannot enumerate; use method random"),
        })).ToList();
        var index = new int[axes.Count];
        while (true)
        {
            yield return axes.Select((a, i) => new KeyValuePair<string, JsonNode>(a.Key, a.Values[index[i]])).ToList();
            int d = axes.Count - 1;
            while (d >= 0 && ++index[d] == axes[d].Values.Count) index[d--] = 0;
            if (d < 0) yield break;
        }
    }

    private static IEnumerable<List<KeyValuePair<string, JsonNode>>> Random(SweepSpec spec)
    {
        var space = SearchSpace.Of(spec);
        var rng = new SplitMix64(unchecked((ulong)spec.Seed) ^ 0x5EED_5EED_5EED_5EEDUL);
        for (int draw = 0; draw < spec.RunCap; draw++) yield return space.Draw(rng);
    }

    private static double Number(JsonNode node) => double.Parse(node.ToJsonString(), CultureInfo.InvariantCulture);

    /// <summary>A placeholder resolved in <see cref="Plan"/> once the trial's rank is known.</summary>
    private static JsonNode PerRankNode(PerRankParameter p) => new JsonObject { ["per_rank"] = p.Factor };

    /// <summary>The kind a swept `adapter` value names (validated with the other values), lora when none is swept.</summary>
    private static TrialKind KindOf(IEnumerable<KeyValuePair<string, JsonNode>> values) =>
        values.FirstOrDefault(kv => kv.Key == "adapter").Value is { } a ? TrialKinds.Parse(TrainerParameters.Display(a)) : TrialKind.Lora;

    private static TrialPlan Plan(SweepSpec spec, TrialKind kind, List<KeyValuePair<string, JsonNode>> values) =>
        Plan(spec.Name, spec.Seed, spec.Task.Model, spec.Task.Dataset, kind, values);

    private static TrialPlan Plan(string sweep, long sweepSeed, string model, string dataset, TrialKind kind, List<KeyValuePair<string, JsonNode>> values)
    {
        // Parameters keep file order for tables; the id hashes them sorted, so reordering the file keeps the ids.
        values = values.Select(kv => kv.Value is JsonObject perRank && perRank["per_rank"] is { } factor
            ? new KeyValuePair<string, JsonNode>(kv.Key, JsonValue.Create(Number(factor)
                * (values.FirstOrDefault(v => v.Key == "rank").Value is { } rank ? Number(rank) : TrainingOptions.Defaults.Rank)))
            : kv).ToList();
        var display = new OrderedDictionary<string, string>(StringComparer.Ordinal);
        var typed = new OrderedDictionary<string, ParameterValue>(StringComparer.Ordinal);
        foreach (var (k, v) in values)
        {
            display[k] = TrainerParameters.Display(v);
            typed[k] = ParameterValue.FromJson(v);
        }
        var material = TrialIds.Material(sweep, kind.Name(), display);
        var id = TrialIds.Of(material);

        var seedMaterial = SHA256.HashData(Encoding.UTF8.GetBytes(sweepSeed.ToString(CultureInfo.InvariantCulture) + "\n" + material));
        long trainerSeed = (long)(BitConverter.ToUInt64(seedMaterial, 0) & long.MaxValue);

        // Only what differs from the defaults: an option absent from the JSON keeps TrainingConfig's own default, which
        // is what TrainingOptions.Defaults holds (a copy of every default per trial cost more than the rest of the plan).
        var json = new JsonObject();
        json["model"] = model;
        json["dataset"] = dataset;
        foreach (var (k, v) in values) json[k] = v.DeepClone();

        json["adapter"] = kind.Name();
        json["seed"] = trainerSeed;
        var config = json.Deserialize<TrainingConfig>(Json)!;
        return new TrialPlan(id, kind, typed, config);
    }
}
