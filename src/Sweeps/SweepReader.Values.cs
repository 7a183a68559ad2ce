using System.Globalization;
using System.Text.Json.Nodes;

namespace Orchestrator.Sweeps;

/// <summary>Values of one option: grid enumerations of distributions, categorical weights, and the conversion of a YAML value into the option's JSON.</summary>
internal sealed partial class SweepReader
{
    /// <summary>
    /// W&amp;B's grid over a bounded distribution (grid_search.py): int_uniform is every integer of range(min, max + 1);
    /// q_uniform is numpy's arange(min, max, q), max left out, its values computed as numpy does (min, then
    /// min + i·((min + q) − min)), so the floats are the bits W&amp;B's agent would pass.
    /// </summary>
    private ValuesParameter? GridValues(TrainingOption option, DistributionKind dist, double min, double max, double q, YNode at)
    {
        var integer = dist == DistributionKind.IntUniform;
        var count = integer ? max - min + 1 : Math.Ceiling((max - min) / q);
        if (count > SweepFile.MaxGridTrials)
        {
            Add(at, $"{(integer ? "int_uniform" : "q_uniform")} of {option.Key} from {Show(min)} to {Show(max)}{(integer ? "" : $" by {Show(q)}")} "
                + $"gives {count:0} grid values; a grid has at most {SweepFile.MaxGridTrials} trials (use method: random, or a larger q)");
            return null;
        }
        var values = new List<JsonNode>((int)count);
        var step = integer ? 1 : (min + q) - min;
        for (var i = 0; i < (int)count; i++)
        {
            var value = i == 0 ? min : i == 1 && !integer ? min + q : min + i * step;
            if (option.Kind == OptionKind.Int)
            {
                if (value != Math.Floor(value))
                {
                    Add(at, $"{option.Key} takes integers, and q_uniform from {Show(min)} by {Show(q)} gives {Show(value)}; give an integer min");
                    return null;
                }
                values.Add(JsonValue.Create((long)value));
            }
            else values.Add(JsonValue.Create(value));
        }
        return new ValuesParameter(values);
    }

    private static string Show(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>W&amp;B's categorical probabilities: one weight ≥ 0 per value, summing to 1.</summary>
    private IReadOnlyList<double>? Probabilities(YNode node, int count)
    {
        if (node is not YSequence seq) { Add(node, $"probabilities must be a list of numbers, got {Describe(node)}"); return null; }
        if (seq.Items.Count != count) { Add(node, $"probabilities lists {seq.Items.Count} numbers for {count} values; give one per value"); return null; }
        var result = new List<double>();
        foreach (var item in seq.Items)
        {
            if (Number(item, "probability") is not { } p) return null;
            if (!(double.IsFinite(p) && p >= 0)) { Add(item, $"a probability must be a finite number ≥ 0, got {Written(item)}"); return null; }
            result.Add(p);
        }
        var sum = result.Sum();
        if (Math.Abs(sum - 1) > 1e-6) { Add(node, $"probabilities must sum to 1, got {sum.ToString("0.######", CultureInfo.InvariantCulture)}"); return null; }
        return result;
    }

    private List<JsonNode>? ValueList(TrainingOption option, YNode node, string? model)
    {
        // W&B reads a scalar (values: 3) as one value.
        if (node is YScalar { IsNull: false } single) node = Wrap(single);
        if (node is not YSequence seq) { Add(node, $"values of {option.Key} must be a list, got {Describe(node)}"); return null; }
        if (seq.Items.Count == 0) { Add(node, $"values of {option.Key} is empty; list at least one value"); return null; }
        var result = new List<JsonNode>();
        bool ok = true;
        foreach (var item in seq.Items)
        {
            var value = Value(option, item, model);
            if (value is null) ok = false;
            else result.Add(value);
        }
        return ok ? result : null;
    }

    private static YSequence Wrap(YScalar s)
    {
        var seq = new YSequence(s.Line, s.Column);
        seq.Items.Add(s);
        return seq;
    }

    /// <summary>Converts one YAML value into the JSON the trainer option takes, checking its rule.</summary>
    private JsonNode? Value(TrainingOption option, YNode node, string? model)
    {
        var key = option.Key;
        // A list option given one plain name (target_modules: all-linear, as PEFT's string; or one module) is a one-entry list.
        if (option.Kind is OptionKind.StringList or OptionKind.IntList && node is YScalar { IsNull: false } one) node = Wrap(one);
        switch (option.Kind)
        {
            case OptionKind.Int:
            {
                var v = Int(node, key, option.MinInt, option.MaxInt);
                return v is null ? null : JsonValue.Create(v.Value);
            }
            case OptionKind.Number:
            {
                var v = Number(node, key);
                if (v is null) return null;
                if (option.CheckNumber(v.Value, Written(node)) is { } bad) { Add(node, bad); return null; }
                return JsonValue.Create(v.Value);
            }
            case OptionKind.Bool:
            {
                if (node is YScalar { Plain: true } s && TryBool(s.Value, out var b)) return JsonValue.Create(b);
                Add(node, $"{key} must be true or false, got {Written(node)}");
                return null;
            }
            case OptionKind.String:
            {
                // PEFT's init_lora_weights: true is our kaiming; Hugging Face's constant_with_warmup is our constant (it warms up too).
                if (key == "init" && node is YScalar { Plain: true } iv && TryBool(iv.Value, out var initFlag) && initFlag) return JsonValue.Create(LoraInitMethod.Kaiming.ToString());
                if (key == "schedule" && node is YScalar { Value: "constant_with_warmup" }) return JsonValue.Create(ScheduleKind.Constant.ConfigName());
                var s = String(node, key);
                if (s is null) return null;
                if (option.CheckString(s) is { } need)
                {
                    Add(node, $"{key} must be {need}, got '{YamlTree.Truncate(s)}'");
                    return null;
                }
                return JsonValue.Create(s);
            }
            case OptionKind.StringList:
            {
                if (node is not YSequence seq) { Add(node, $"{key} must be a list of names, got {Describe(node)}"); return null; }
                if (seq.Items.Count == 0) { Add(node, $"{key} must name at least one module"); return null; }
                var arr = new JsonArray();
                bool ok = true;
                foreach (var item in seq.Items)
                {
                    var s = String(item, key);
                    if (s is null) { ok = false; continue; }
                    if (key == "target_modules" && !TargetModuleKnown(item, s, model, seq.Items.Count)) { ok = false; continue; }
                    if (arr.Any(x => (string)x! == s)) { Add(item, $"{key} lists '{YamlTree.Truncate(s)}' twice"); ok = false; continue; }
                    arr.Add(s);
                }
                return ok ? arr : null;
            }
            case OptionKind.IntList:
            {
                if (node is not YSequence seq) { Add(node, $"{key} must be a list of integers, got {Describe(node)}"); return null; }
                var arr = new JsonArray();
                bool ok = true;
                foreach (var item in seq.Items)
                {
                    var v = Int(item, $"{key} entry", option.MinInt, option.MaxInt);
                    if (v is null) ok = false; else arr.Add(v.Value);
                }
                return ok ? arr : null;
            }
            default:
            {
                if (node is not YMapping map) { Add(node, $"{key} must be a mapping of module name to value, got {Describe(node)}"); return null; }
                var obj = new JsonObject();
                bool ok = true;
                foreach (var (kn, vn) in map.Entries)
                {
                    var name = String(kn, $"{key} key");
                    if (name is null || obj.ContainsKey(name)) { if (name is not null) Add(kn, $"{key} lists '{name}' twice"); ok = false; continue; }
                    if (option.Kind == OptionKind.IntMap)
                    {
                        var v = Int(vn, $"{key} value", option.MinInt, option.MaxInt);
                        if (v is null) ok = false; else obj[name] = v.Value;
                    }
                    else
                    {
                        var v = Number(vn, $"{key} value");
                        if (v is null) ok = false;
                        else if (option.CheckNumber(v.Value) is { } need) { Add(vn, $"{key} value must be {need}, got {Written(vn)}"); ok = false; }
                        else obj[name] = v.Value;
                    }
                }
                return ok ? obj : null;
            }
        }
    }

    private bool TargetModuleKnown(YNode at, string module, string? model, int count)
    {
        if (module == "all-linear")
        {
            if (count == 1) return true;
            Add(at, "all-linear must be the only entry of target_modules");
            return false;
        }
        if (model is null || TrainingOptions.TargetableModules(model) is not { } known) return true;
        if (known.Contains(module) || known.Any(k => k.EndsWith("." + module, StringComparison.Ordinal))) return true;
        var names = known.Concat(known.Select(k => k[(k.LastIndexOf('.') + 1)..])).Distinct(StringComparer.Ordinal).ToList();
        var hint = Suggestions.DidYouMean(module, names) is { } s ? $" (did you mean '{s}'?)" : "";
        Add(at, $"unknown target module '{YamlTree.Truncate(module)}' for model {model}; its linear modules are {TrainingOptions.DescribeModules(known)} (or all-linear){hint}");
        return false;
    }
}
