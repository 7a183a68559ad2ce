using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrator.Sweeps;

/// <summary>
/// A sweep spec as canonical JSON, and its sha256: what makes two submissions "the same sweep". Everything that
/// shapes the trials or how they are judged is in it (seed, task and base, metric, method, parallel, max_failures, pack,
/// baselines, parameters in file order, early stopping); run_cap, the description and the file's text and name are
/// not, so raising run_cap or rewording keeps the hash. Keys are the sweep file's own, so a diff names fields as a
/// user wrote them (task.base.pretrain.epochs).
/// </summary>
public sealed record CanonicalSpec(string Json, string Hash)
{
    public static CanonicalSpec Of(SweepSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var json = ToNode(spec).ToJsonString();
        return new CanonicalSpec(json, HashOf(json));
    }

    /// <summary>The hash of a canonical spec's JSON: SHA-256 of its UTF-8 bytes, lower-case hex (what a grain checks a plan's hash with).</summary>
    public static string HashOf(string json) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));

    /// <summary>
    /// What changed from <paramref name="before"/> to <paramref name="after"/>, one line per field
    /// ("task.base.pretrain.epochs changed from 1 to 2"); empty when nothing did.
    /// </summary>
    public static IReadOnlyList<string> Diff(CanonicalSpec before, CanonicalSpec after)
    {
        if (before.Hash == after.Hash) return [];
        var changes = new List<string>();
        Diff("", JsonNode.Parse(before.Json), JsonNode.Parse(after.Json), changes);
        // Same fields, other order: the grid order (and so which trials run_cap keeps) differs.
        if (changes.Count == 0) changes.Add("the order of parameters changed");
        return changes;
    }

    private static void Diff(string path, JsonNode? a, JsonNode? b, List<string> changes)
    {
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var (key, va) in oa)
            {
                var at = path.Length == 0 ? key : $"{path}.{key}";
                if (!ob.TryGetPropertyValue(key, out var vb)) changes.Add($"{at} removed (was {Shown(va)})");
                else Diff(at, va, vb, changes);
            }
            foreach (var (key, vb) in ob)
                if (!oa.ContainsKey(key)) changes.Add($"{(path.Length == 0 ? key : $"{path}.{key}")} added ({Shown(vb)})");
            return;
        }
        if (!JsonNode.DeepEquals(a, b)) changes.Add($"{path} changed from {Shown(a)} to {Shown(b)}");
    }

    private static string Shown(JsonNode? node) => node switch
    {
        null => "nothing",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => node.ToJsonString(),
    };

    private static JsonObject ToNode(SweepSpec spec)
    {
        var root = new JsonObject
        {
            ["name"] = spec.Name,
            ["seed"] = spec.Seed,
            ["task"] = new JsonObject
            {
                ["model"] = spec.Task.Model,
                ["dataset"] = spec.Task.Dataset,
                ["base"] = spec.Task.Base is null ? null : JsonSerializer.SerializeToNode(spec.Task.Base, Options),
            },
            ["metric"] = new JsonObject { ["name"] = spec.Metric.Name, ["goal"] = Lower(spec.Metric.Goal) },
            ["method"] = Lower(spec.Method),
            ["parallel"] = spec.Parallel,
            ["max_failures"] = spec.MaxFailures,
            ["baselines"] = new JsonArray([.. spec.Baselines.Select(b => (JsonNode)Lower(b))]),
            ["parameters"] = Parameters(spec),
            ["early_terminate"] = EarlyTerminate(spec.EarlyTerminate),
        };
        // Baseline values only when there are some, so a sweep without them keeps its hash.
        if (spec.BaselineParameters.Count > 0)
            root["baseline_parameters"] = new JsonObject(spec.BaselineParameters.OrderBy(b => b.Key).Select(b => new KeyValuePair<string, JsonNode?>(
                Lower(b.Key), new JsonObject(b.Value.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value.DeepClone()))))));
        // Packing only when on, so every sweep written before the key keeps its hash. It is in the hash because the
        // pack a trial trains in changes its last bits (see Orchestrator.Trainer.Packing), so not the same sweep.
        if (spec.Pack.Mode != PackMode.Off) root["pack"] = spec.Pack.ToString();
        // Further objectives only when there are some, so a one-metric sweep keeps its hash.
        if (spec.Objectives.Count > 1)
            root["metrics"] = new JsonArray([.. spec.Objectives.Select(o => (JsonNode)new JsonObject { ["name"] = o.Name, ["goal"] = Lower(o.Goal) })]);
        return root;
    }

    private static JsonObject Parameters(SweepSpec spec)
    {
        var result = new JsonObject();
        foreach (var (key, p) in spec.Parameters)
        {
            result[key] = p switch
            {
                FixedParameter f => new JsonObject { ["value"] = f.Value.DeepClone() },
                ValuesParameter v => new JsonObject { ["values"] = new JsonArray([.. v.Values.Select(x => x.DeepClone())]) },
                PerRankParameter r => new JsonObject { ["per_rank"] = r.Factor },
                DistributionParameter d => Distribution(d),
                _ => throw new ArgumentException($"parameter {key}: unknown form {p.GetType().Name}", nameof(spec)),
            };
        }
        return result;
    }

    /// <summary>As before the normal family and probabilities existed (so those sweeps keep their hash), plus what a newer distribution adds.</summary>
    private static JsonObject Distribution(DistributionParameter d)
    {
        var node = new JsonObject
        {
            ["distribution"] = d.Kind.Name(),
            ["min"] = d.Min,
            ["max"] = d.Max,
            ["q"] = d.Q,
            ["values"] = new JsonArray([.. d.Values.Select(x => x.DeepClone())]),
        };
        if (d.Kind.IsNormal())
        {
            node["mu"] = d.Mu;
            node["sigma"] = d.Sigma;
        }
        if (d.Probabilities is { } p) node["probabilities"] = new JsonArray([.. p.Select(x => (JsonNode)x)]);
        return node;
    }

    private static JsonObject? EarlyTerminate(EarlyTerminationSpec? spec) => spec switch
    {
        null => null,
        AshaSpec a => new JsonObject { ["type"] = "asha", ["min_iter"] = a.MinIter, ["max_iter"] = a.MaxIter, ["eta"] = a.Eta, ["brackets"] = a.Brackets },
        HyperbandSpec h => new JsonObject { ["type"] = "hyperband", ["min_iter"] = h.MinIter, ["max_iter"] = h.MaxIter, ["eta"] = h.Eta, ["brackets"] = h.Brackets },
        MedianStopSpec m => new JsonObject { ["type"] = "median", ["min_trials"] = m.MinTrials, ["start_iter"] = m.StartIter },
        // A rule this code does not spell out canonically still counts: its record's own JSON.
        _ => new JsonObject { ["type"] = spec.GetType().Name, ["settings"] = JsonSerializer.SerializeToNode(spec, spec.GetType(), Options) },
    };

    private static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLower(CultureInfo.InvariantCulture);

    private static readonly JsonSerializerOptions Options = new();
}
