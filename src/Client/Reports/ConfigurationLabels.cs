using Orchestrator.Contracts.Sweeps;

namespace Orchestrator.Client.Reports;

/// <summary>
/// What the report draws one line (rank plot) or one bar (per-rank chart) for: among a sweep's LoRA trials, every
/// swept parameter but rank, alpha and seed that takes more than one value. When only the target modules vary the
/// label is the module list, as in the LoRA paper's figure; the LoRA variants get their papers' names ("DoRA + PiSSA",
/// "LoRA+ 16", plain "LoRA" when none is on); any other parameter reads key=value.
/// </summary>
internal sealed class ConfigurationLabels
{
    /// <summary>The axes the plots spread along (rank, and alpha set with it) or average over (seed).</summary>
    private static readonly HashSet<string> PlotAxes = new(StringComparer.Ordinal) { "rank", "alpha", "seed" };

    private static readonly HashSet<string> TargetKeys = new(StringComparer.Ordinal) { "target_modules", "target_modules_regex" };

    /// <summary>PEFT's variant switches, named as their papers name them; values that switch the variant off name nothing.</summary>
    private static readonly string[] VariantKeys = ["use_dora", "init", "loraplus_lr_ratio", "use_rslora"];

    private readonly IReadOnlyList<string> _varying;

    private ConfigurationLabels(IReadOnlyList<string> varying) => _varying = varying;

    public static ConfigurationLabels Of(IReadOnlyList<TrialRecord> lora)
    {
        var keys = lora.SelectMany(t => t.Parameters.Keys).Distinct(StringComparer.Ordinal)
            .Where(k => !PlotAxes.Contains(k))
            .Where(k => lora.Select(t => t.Value(k)?.ToString() ?? "").Distinct(StringComparer.Ordinal).Count() > 1)
            .OrderBy(k => TargetKeys.Contains(k) ? 0 : Array.IndexOf(VariantKeys, k) is var v and >= 0 ? 1 + v : 1 + VariantKeys.Length)
            .ThenBy(k => k, StringComparer.Ordinal)
            .ToList();
        return new ConfigurationLabels(keys);
    }

    /// <summary>True when the lines are target-module sets (or nothing varies): the plots then speak of target modules.</summary>
    public bool ByTargetModules => _varying.All(TargetKeys.Contains);

    /// <summary>What the lines stand for, for titles and axes: "target modules", "LoRA variant" or "configuration".</summary>
    public string Noun => ByTargetModules ? "target modules" : _varying.All(k => VariantKeys.Contains(k)) ? "LoRA variant" : "configuration";

    public string Label(TrialRecord t)
    {
        if (ByTargetModules) return TargetLabel(t);
        var parts = new List<string>();
        var variants = new List<string>();
        foreach (var key in _varying)
        {
            if (TargetKeys.Contains(key)) parts.Add(TargetLabel(t));
            else if (Array.IndexOf(VariantKeys, key) >= 0) { if (VariantName(key, t.Value(key)) is { } name) variants.Add(name); }
            else parts.Add($"{key}={t.Value(key)?.ToString() ?? "–"}");
        }
        if (_varying.Any(k => VariantKeys.Contains(k))) parts.Insert(_varying.Any(TargetKeys.Contains) ? 1 : 0, variants.Count == 0 ? "LoRA" : string.Join(" + ", variants));
        return string.Join(", ", parts);
    }

    private static string? VariantName(string key, ParameterValue? value)
    {
        var text = value?.ToString();
        return key switch
        {
            "use_dora" => text == "true" ? "DoRA" : null,
            "use_rslora" => text == "true" ? "rsLoRA" : null,
            "loraplus_lr_ratio" => text is null or "0" ? null : $"LoRA+ {text}",
            "init" => text switch
            {
                null or "kaiming" or "true" => null,
                "pissa" => "PiSSA",
                "olora" => "OLoRA",
                _ when text.StartsWith("pissa_niter_", StringComparison.Ordinal) => $"PiSSA (niter {text["pissa_niter_".Length..]})",
                _ => $"{text} init",
            },
            _ => null,
        };
    }

    /// <summary>A readable name for the trial's target modules ("l1,l2,l3", "q_proj,v_proj"), the same for the same set.</summary>
    private static string TargetLabel(TrialRecord t)
    {
        if (t.Value("target_modules") is { Kind: ParameterValueKind.List, Items: { Count: > 0 } modules })
            return string.Join(",", modules);
        if (t.Value("target_modules_regex") is { Kind: ParameterValueKind.Text } regex) return regex.ToString();
        return "default targets";
    }
}
