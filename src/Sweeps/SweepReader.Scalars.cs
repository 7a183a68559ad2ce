using System.Globalization;
using System.Text.RegularExpressions;

namespace Orchestrator.Sweeps;

/// <summary>YAML 1.1 scalars as sweep files use them: keys, strings, integers, numbers and booleans, and how a bad one is shown.</summary>
internal sealed partial class SweepReader
{
    private Dictionary<string, YNode> Keys(YMapping map, string[] allowed, IReadOnlyDictionary<string, string>? synonyms,
        IReadOnlyDictionary<string, string>? ignored = null)
    {
        var result = new Dictionary<string, YNode>(StringComparer.Ordinal);
        var keyNodes = new Dictionary<string, YNode>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Entries)
        {
            if (k is not YScalar key || key.IsNull) { Add(k, $"keys must be plain names, got {Describe(k)}"); continue; }
            if (ignored is not null && ignored.TryGetValue(key.Value, out var why))
            {
                Warn(k, $"'{key.Value}' is ignored: it is W&B's ({why})");
                continue;
            }
            if (!allowed.Contains(key.Value))
            {
                Add(k, allowed.Contains("parameters") && TrainerParameters.All.ContainsKey(key.Value)
                    ? $"unknown key '{key.Value}' (trainer options such as {key.Value} go under parameters:)"
                    : Suggestions.UnknownKey(key.Value, allowed, synonyms ?? TrainerParameters.Synonyms));
                continue;
            }
            if (keyNodes.TryGetValue(key.Value, out var first)) { Add(k, $"key '{key.Value}' is given twice (first at line {first.Line})"); continue; }
            keyNodes[key.Value] = k;
            result[key.Value] = v;
        }
        return result;
    }

    private string? RequiredString(YMapping map, Dictionary<string, YNode> keys, string key, string? label = null)
    {
        if (keys.TryGetValue(key, out var node)) return String(node, label ?? key);
        Add(map, $"missing key '{label ?? key}'");
        return null;
    }

    private string? String(YNode node, string what)
    {
        if (node is YScalar s && !s.IsNull) return s.Value;
        if (what.Length > 0) Add(node, $"{what} must be text, got {Describe(node)}");
        return null;
    }

    private long? Int(YNode node, string what, long min, long max)
    {
        string Need() => min == long.MinValue ? "an integer" : max >= int.MaxValue ? $"an integer ≥ {min}" : $"an integer from {min} to {max}";
        if (node is not YScalar { Plain: true } s || !IntPattern().IsMatch(s.Value))
        {
            Add(node, $"{what} must be {Need()}, got {Written(node)}");
            return null;
        }
        if (!long.TryParse(s.Value.Replace("_", ""), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
        {
            Add(node, $"{what} must be {Need()}, got {Written(node)} (too large)");
            return null;
        }
        if (v < min) { Add(node, $"{what} must be an integer ≥ {min}, got {Written(node)}"); return null; }
        if (v > max) { Add(node, $"{what} must be an integer ≤ {max}, got {Written(node)}"); return null; }
        return v;
    }

    private double? Number(YNode node, string what)
    {
        if (node is YScalar { Plain: true } s)
        {
            switch (s.Value)
            {
                case ".nan" or ".NaN" or ".NAN": return double.NaN;
                case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF": return double.PositiveInfinity;
                case "-.inf" or "-.Inf" or "-.INF": return double.NegativeInfinity;
            }
            if (NumberPattern().IsMatch(s.Value) && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return v;
        }
        Add(node, $"{what} must be a number, got {Written(node)}");
        return null;
    }

    private static bool TryBool(string text, out bool value)
    {
        value = text is "true" or "True" or "TRUE";
        return value || text is "false" or "False" or "FALSE";
    }

    /// <summary>The value as the user wrote it, for messages.</summary>
    private static string Written(YNode node) => node switch
    {
        YScalar { IsNull: true } => "nothing",
        YScalar { Plain: true } s => YamlTree.Truncate(s.Value),
        YScalar s => $"'{YamlTree.Truncate(s.Value)}' (quoted text)",
        _ => Describe(node),
    };

    private static string Describe(YNode node) => node switch
    {
        YScalar { IsNull: true } => "nothing",
        YScalar { Plain: true } s => $"'{YamlTree.Truncate(s.Value)}'",
        YScalar s => $"'{YamlTree.Truncate(s.Value)}' (quoted text)",
        YSequence => "a list",
        YMapping => "a mapping",
        _ => "an unknown node",
    };

    [GeneratedRegex("^[-+]?[0-9][0-9_]*$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex NumberPattern();
}
