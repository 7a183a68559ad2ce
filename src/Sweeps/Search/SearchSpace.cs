using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Sweeps.Search;

/// <summary>
/// A sweep's parameters as the search sees them: the swept ones as <see cref="SearchDimension"/>s, the fixed ones
/// as values, in file order. Random sweeps draw from it; bayes journals it and suggests in it.
/// </summary>
public sealed record SearchSpace
{
    /// <summary>Every parameter in file order: a dimension, or a fixed value (JSON text; alpha per_rank as {"per_rank": f}).</summary>
    [JsonPropertyName("parameters")] public required IReadOnlyList<SearchParameter> Parameters { get; init; }

    [JsonIgnore] public IEnumerable<SearchDimension> Dimensions => Parameters.Where(p => p.Dimension is not null).Select(p => p.Dimension!);

    public static SearchSpace Of(SweepSpec spec) => new() { Parameters = spec.Parameters.Select(p => Of(p.Key, p.Value)).ToList() };

    /// <summary>One draw of every parameter from its prior (the file's distribution), in file order.</summary>
    public List<KeyValuePair<string, JsonNode>> Draw(SplitMix64 rng) =>
        Parameters.Select(p => new KeyValuePair<string, JsonNode>(p.Name, p.Dimension is { } d ? d.Draw(rng) : JsonNode.Parse(p.Fixed!)!)).ToList();

    /// <summary>The parameters of a point of the space (one coordinate per dimension, in order), fixed ones filled in.</summary>
    public List<KeyValuePair<string, JsonNode>> Values(IReadOnlyList<double> point)
    {
        var result = new List<KeyValuePair<string, JsonNode>>();
        int i = 0;
        foreach (var p in Parameters)
            result.Add(new(p.Name, p.Dimension is { } d ? d.Decode(point[i++]) : JsonNode.Parse(p.Fixed!)!));
        return result;
    }

    private static SearchParameter Of(string key, ParameterSpec p)
    {
        var option = TrainerParameters.All[key];
        bool integer = option.Kind == OptionKind.Int;
        return p switch
        {
            FixedParameter f => new SearchParameter(key, f.Value.ToJsonString(), null),
            PerRankParameter r => new SearchParameter(key, new JsonObject { ["per_rank"] = r.Factor }.ToJsonString(), null),
            ValuesParameter v => new SearchParameter(key, null, new SearchDimension
            {
                Name = key, Values = v.Values.Select(x => x.ToJsonString()).ToList(),
                Kind = IsMonotoneNumbers(v.Values) ? DimensionKind.Ordinal : DimensionKind.Categorical, Prior = "values",
            }),
            DistributionParameter { Kind: DistributionKind.Categorical } c => new SearchParameter(key, null, new SearchDimension
            {
                Name = key, Kind = DimensionKind.Categorical, Values = c.Values.Select(x => x.ToJsonString()).ToList(),
                Probabilities = c.Probabilities ?? [], Prior = "categorical",
            }),
            DistributionParameter d => new SearchParameter(key, null, Numeric(key, d, option, integer)),
            _ => throw new ArgumentException($"parameter {key}: unknown form {p.GetType().Name}", nameof(p)),
        };
    }

    private static SearchDimension Numeric(string key, DistributionParameter d, TrainingOption option, bool integer)
    {
        bool log = d.Kind.IsLog();
        double low, high;
        if (d.Kind.IsNormal())
        {
            // TPE needs bounds: ±4 sigma around mu (in log space for the log-normals), inside the option's own range.
            low = d.Mu - 4 * d.Sigma;
            high = d.Mu + 4 * d.Sigma;
            if (option.MinNumber is { } min) low = Math.Max(low, log ? Math.Log(Math.Max(min, double.Epsilon)) : min);
            if (option.MaxNumber is { } max) high = Math.Min(high, log ? Math.Log(max) : max);
            if (option.Kind == OptionKind.Int) low = Math.Max(low, log ? Math.Log(Math.Max(1, option.MinInt)) : option.MinInt);
        }
        else if (d.Kind is DistributionKind.LogUniform or DistributionKind.QLogUniform) (low, high) = (d.Min, d.Max);
        else if (log) (low, high) = (Math.Log(d.Min), Math.Log(d.Max));
        else (low, high) = (d.Min, d.Max);
        double step = d.Kind == DistributionKind.IntUniform ? 1 : d.Kind.IsQuantised() ? d.Q : integer ? 1 : 0;
        return new SearchDimension
        {
            Name = key, Kind = DimensionKind.Numeric, Low = low, High = high, Log = log, Step = step, Integer = integer,
            Prior = d.Kind.Name(), Mu = d.Mu, Sigma = d.Sigma,
        };
    }

    /// <summary>Numbers listed in increasing or decreasing order: their positions carry order, so TPE models them as ordinal.</summary>
    private static bool IsMonotoneNumbers(IReadOnlyList<JsonNode> values)
    {
        if (values.Count < 3) return false;
        var numbers = new List<double>();
        foreach (var v in values)
        {
            if (!SearchDimension.TryNumber(v, out var x)) return false;
            numbers.Add(x);
        }
        bool up = true, down = true;
        for (int i = 1; i < numbers.Count; i++)
        {
            up &= numbers[i] > numbers[i - 1];
            down &= numbers[i] < numbers[i - 1];
        }
        return up || down;
    }
}

/// <summary>One parameter of a <see cref="SearchSpace"/>: fixed (its JSON text) or a dimension.</summary>
public sealed record SearchParameter(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("fixed")] string? Fixed,
    [property: JsonPropertyName("dimension")] SearchDimension? Dimension);

/// <summary>Prior draws: random sweeps and TPE's startup trials.</summary>
public static class PriorDraws
{
    /// <summary>
    /// A draw from the dimension's prior. Uniform-family draws use one uniform number each (so a random sweep's
    /// trials are fixed by the seed); normal draws that break the option's rule are drawn again.
    /// </summary>
    public static JsonNode Draw(this SearchDimension d, SplitMix64 rng)
    {
        if (d.Kind != DimensionKind.Numeric)
        {
            if (d.Probabilities.Count == 0) return JsonNode.Parse(d.Values[(int)rng.NextBelow((ulong)d.Count)])!;
            double u = rng.NextDouble(), sum = 0;
            for (int i = 0; i < d.Count; i++)
                if (u < (sum += d.Probabilities[i])) return JsonNode.Parse(d.Values[i])!;
            return JsonNode.Parse(d.Values[^1])!;
        }
        if (d.Prior == "int_uniform")
        {
            long lo = (long)d.Low, hi = (long)d.High;
            long x = lo + (long)rng.NextBelow((ulong)(hi - lo) + 1);
            return d.Integer ? JsonValue.Create(x) : JsonValue.Create((double)x);
        }
        if (d.Prior is "normal" or "q_normal" or "log_normal" or "q_log_normal")
        {
            var option = TrainerParameters.All[d.Name];
            JsonNode? last = null;
            for (int attempt = 0; attempt < 100; attempt++)
            {
                // Box–Muller: two uniforms, one standard normal.
                double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                double z = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                last = d.Decode(d.Mu + d.Sigma * z);
                if (option.Check(last) is null) return last;
            }
            return d.Decode(Math.Clamp(d.Mu, d.Low, d.High));
        }
        double uu = rng.NextDouble();
        return d.Decode(d.Low + uu * (d.High - d.Low));
    }
}
