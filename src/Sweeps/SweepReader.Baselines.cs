using System.Text.Json.Nodes;

namespace Orchestrator.Sweeps;

/// <summary>`baselines:`: full fine-tuning and the frozen base, with their own values.</summary>
internal sealed partial class SweepReader
{
    /// <summary>
    /// `baselines: [full, base]`, or a mapping that also gives a baseline its own values of non-LoRA options:
    /// `baselines: { full: { lr: 5.0e-5 }, base: { lr: 1.0e-2 } }` (`full:` alone for none).
    /// </summary>
    private (IReadOnlyList<BaselineKind>, Dictionary<BaselineKind, IReadOnlyList<KeyValuePair<string, JsonNode>>>) Baselines(YNode node, string? model)
    {
        var values = new Dictionary<BaselineKind, IReadOnlyList<KeyValuePair<string, JsonNode>>>();
        if (node is YScalar { IsNull: true }) return ([], values);
        if (node is YMapping map)
        {
            var kinds = new List<BaselineKind>();
            foreach (var (keyNode, valueNode) in map.Entries)
            {
                var text = keyNode is YScalar k && !k.IsNull ? k.Value : null;
                var kind = BaselineKindOf(text);
                if (kind is null) { Add(keyNode, $"baseline must be full or base, got {(text is null ? Describe(keyNode) : $"'{YamlTree.Truncate(text)}'")}"); continue; }
                if (kinds.Contains(kind.Value)) { Add(keyNode, $"baseline '{text}' is given twice"); continue; }
                kinds.Add(kind.Value);
                if (BaselineValues(text!, valueNode, model) is { Count: > 0 } given) values[kind.Value] = given;
            }
            return (kinds, values);
        }
        if (node is not YSequence seq) { Add(node, $"baselines must be a list of full and/or base, or a mapping of them to their own values, got {Describe(node)}"); return ([], values); }
        var result = new List<BaselineKind>();
        foreach (var item in seq.Items)
        {
            var text = String(item, "baseline");
            var kind = BaselineKindOf(text);
            if (text is null) continue;
            if (kind is null) Add(item, $"baseline must be full or base, got '{YamlTree.Truncate(text)}'");
            else if (result.Contains(kind.Value)) Add(item, $"baseline '{text}' is listed twice");
            else result.Add(kind.Value);
        }
        return (result, values);
    }

    private static BaselineKind? BaselineKindOf(string? text) => text switch { "full" => BaselineKind.Full, "base" => BaselineKind.Base, _ => null };

    /// <summary>The option a key names: our own name, or a Hugging Face / PEFT spelling of it (lora_r, learning_rate, ...).</summary>
    private static string OptionName(string key) =>
        TrainingOptions.Aliases.TryGetValue(key, out var alias) ? alias
        : TrainingOptions.FlagAliases.TryGetValue(key, out var flag) ? flag.Key
        : key;

    /// <summary>A flag alias's value (<c>bf16: { value: true }</c>) as its option's (<c>base_dtype: { value: bf16 }</c>); any other key's as it is.</summary>
    private static YNode FlagValues(string key, YNode node)
    {
        if (!TrainingOptions.FlagAliases.TryGetValue(key, out var flag)) return node;
        YNode Map(YNode n)
        {
            switch (n)
            {
                case YScalar { Plain: true } s when s.Value is "true" or "True" or "TRUE":
                    return new YScalar(s.Line, s.Column, flag.WhenTrue, plain: false);
                case YScalar { Plain: true } s when s.Value is "false" or "False" or "FALSE":
                    return new YScalar(s.Line, s.Column, flag.WhenFalse, plain: false);
                case YSequence seq:
                    var copy = new YSequence(seq.Line, seq.Column);
                    copy.Items.AddRange(seq.Items.Select(Map));
                    return copy;
                case YMapping map:
                    var mapped = new YMapping(map.Line, map.Column);
                    mapped.Entries.AddRange(map.Entries.Select(e => (e.Key, Map(e.Value))));
                    return mapped;
                default:
                    return n;
            }
        }
        return Map(node);
    }

    /// <summary>
    /// The trainer option <paramref name="name"/> (see <see cref="OptionName"/>), or null after reporting the key as an
    /// unknown <paramref name="what"/> with the nearest option, or the nearest Hugging Face spelling's option, suggested.
    /// </summary>
    private TrainingOption? KnownOption(YScalar key, string name, string what)
    {
        if (TrainerParameters.All.TryGetValue(name, out var option)) return option;
        // A typo of a Hugging Face spelling ("learnin_rate") is suggested as our name.
        var nearAlias = Suggestions.DidYouMean(key.Value, TrainingOptions.Aliases.Keys) is { } a ? TrainingOptions.Aliases[a] : null;
        Add(key, Suggestions.DidYouMean(key.Value, TrainerParameters.All.Keys, TrainerParameters.Synonyms) is null && nearAlias is not null
            ? $"unknown {what} '{YamlTree.Truncate(key.Value)}' (did you mean '{nearAlias}'?)"
            : Suggestions.UnknownKey(key.Value, TrainerParameters.All.Keys, TrainerParameters.Synonyms).Replace("unknown key", $"unknown {what}"));
        return null;
    }

    /// <summary>One baseline's own values: plain values of options that are not LoRA's (a baseline has no adapter).</summary>
    private List<KeyValuePair<string, JsonNode>> BaselineValues(string baseline, YNode node, string? model)
    {
        var result = new List<KeyValuePair<string, JsonNode>>();
        if (node is YScalar { IsNull: true }) return result;
        if (node is not YMapping map) { Add(node, $"baseline {baseline} takes a mapping of trainer options to values (for example {{ lr: 5.0e-5 }}), got {Describe(node)}"); return result; }
        foreach (var (keyNode, valueNode) in map.Entries)
        {
            if (keyNode is not YScalar key || key.IsNull) { Add(keyNode, $"option names must be plain text, got {Describe(keyNode)}"); continue; }
            var name = OptionName(key.Value);
            if (KnownOption(key, name, $"option in baseline {baseline}") is not { } option) continue;
            if (TrainerParameters.TaskKeys.Contains(name) || option.LoraOnly)
            {
                Add(key, $"baseline {baseline} trains no adapter, so {name} cannot be set for it; its options are the non-LoRA ones (lr, weight_decay, schedule, warmup_steps, batch_size, epochs, ...)");
                continue;
            }
            if (result.Any(kv => kv.Key == name)) { Add(key, $"option '{YamlTree.Truncate(key.Value)}' is given twice in baseline {baseline}"); continue; }
            if (valueNode is YMapping or YSequence && option.Kind is not (OptionKind.StringList or OptionKind.IntList or OptionKind.IntMap or OptionKind.NumberMap))
            {
                Add(valueNode, $"baseline {baseline}: {name} takes one value (a baseline is one trial per swept combination), got {Describe(valueNode)}");
                continue;
            }
            if (Value(option, FlagValues(key.Value, valueNode), model) is { } value) result.Add(new(name, value));
        }
        return result;
    }
}
