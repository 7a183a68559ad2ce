using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Orchestrator.Sweeps.Search;

/// <summary>How TPE models one parameter.</summary>
public enum DimensionKind
{
    /// <summary>Unordered choices (text, booleans, a `categorical` distribution): a categorical Parzen estimator.</summary>
    Categorical,
    /// <summary>A `values` list of numbers in order (rank 4, 8, 16): a numeric estimator over the list's positions, so near values share evidence.</summary>
    Ordinal,
    /// <summary>A numeric distribution: a truncated-Gaussian Parzen estimator on [Low, High], in log space when <see cref="SearchDimension.Log"/>.</summary>
    Numeric,
}

/// <summary>
/// One swept parameter as the search sees it, journaled with the sweep (the search never re-reads the YAML). For a
/// numeric dimension Low and High are in the estimator's space (logarithms when Log), Step is the grid of values
/// (an integer option's 1, a q_ distribution's q) and Prior says how startup trials draw (the file's distribution).
/// </summary>
public sealed record SearchDimension
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("kind")] public DimensionKind Kind { get; init; }
    /// <summary>Categorical and ordinal: the values as JSON text, in file order.</summary>
    [JsonPropertyName("values")] public IReadOnlyList<string> Values { get; init; } = [];
    /// <summary>Categorical prior weights (W&amp;B's probabilities); empty: uniform.</summary>
    [JsonPropertyName("probabilities")] public IReadOnlyList<double> Probabilities { get; init; } = [];
    [JsonPropertyName("low")] public double Low { get; init; }
    [JsonPropertyName("high")] public double High { get; init; }
    [JsonPropertyName("log")] public bool Log { get; init; }
    /// <summary>Values are multiples of Step (0: continuous); applied after exp for log dimensions.</summary>
    [JsonPropertyName("step")] public double Step { get; init; }
    /// <summary>The trainer option takes integers.</summary>
    [JsonPropertyName("integer")] public bool Integer { get; init; }
    /// <summary>The distribution startup draws use (the file's), by its sweep-file name.</summary>
    [JsonPropertyName("prior")] public string Prior { get; init; } = "uniform";
    [JsonPropertyName("mu")] public double Mu { get; init; }
    [JsonPropertyName("sigma")] public double Sigma { get; init; }

    /// <summary>Number of choices of a categorical or ordinal dimension.</summary>
    [JsonIgnore] public int Count => Values.Count;

    /// <summary>The value at a point of the estimator's space, typed for the trainer option.</summary>
    public JsonNode Decode(double x)
    {
        if (Kind != DimensionKind.Numeric)
            return JsonNode.Parse(Values[Math.Clamp((int)Math.Round(x), 0, Values.Count - 1)])!;
        var v = Log ? Math.Exp(x) : x;
        if (Step > 0) v = Math.Round(v / Step, MidpointRounding.AwayFromZero) * Step;
        if (Integer) return JsonValue.Create((long)Math.Round(v));
        return JsonValue.Create(double.Parse(v.ToString("G8", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
    }

    /// <summary>Where a trial's value lies in the estimator's space; null when the value is not one this dimension makes.</summary>
    public double? Encode(JsonNode value)
    {
        if (Kind != DimensionKind.Numeric)
        {
            var text = value.ToJsonString();
            for (int i = 0; i < Values.Count; i++)
                if (Values[i] == text || SameNumber(Values[i], value)) return i;
            return null;
        }
        if (!TryNumber(value, out var v)) return null;
        if (Log) v = v > 0 ? Math.Log(v) : double.NaN;
        return double.IsFinite(v) ? Math.Clamp(v, Low, High) : null;
    }

    private static bool SameNumber(string json, JsonNode value) =>
        TryNumber(JsonNode.Parse(json)!, out var a) && TryNumber(value, out var b) && a == b;

    internal static bool TryNumber(JsonNode node, out double v)
    {
        v = 0;
        if (node is not JsonValue j) return false;
        if (j.TryGetValue(out double d)) { v = d; return true; }
        if (j.TryGetValue(out long l)) { v = l; return true; }
        if (j.TryGetValue(out int i)) { v = i; return true; }
        return false;
    }
}
