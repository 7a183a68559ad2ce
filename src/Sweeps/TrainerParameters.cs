using System.Globalization;
using System.Text.Json.Nodes;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Sweeps;

/// <summary>
/// The trainer options a sweep may vary: every key of <see cref="TrainingConfig"/> but the task's, with the rules,
/// defaults and help of <see cref="TrainingOptions"/> (the one table the trainer and the train command read too).
/// </summary>
internal static class TrainerParameters
{
    /// <summary>Keys that belong to `task`, not `parameters`.</summary>
    public static readonly IReadOnlySet<string> TaskKeys = TrainingOptions.All.Where(o => o.IsTask).Select(o => o.Key).ToHashSet(StringComparer.Ordinal);

    public static readonly IReadOnlyDictionary<string, TrainingOption> All =
        TrainingOptions.All.Where(o => !o.IsTask).ToDictionary(o => o.Key, StringComparer.Ordinal);

    /// <summary>Names other tools use for the same knob (PEFT, Hugging Face TrainingArguments, W&amp;B), for "did you mean": the one table's.</summary>
    public static readonly IReadOnlyDictionary<string, string> Synonyms = TrainingOptions.Synonyms;

    /// <summary>Whether a distribution can produce values of this parameter.</summary>
    public static bool Supports(this TrainingOption p, DistributionKind d, double q = 0) => d switch
    {
        DistributionKind.Categorical => true,
        DistributionKind.IntUniform => p.Kind is OptionKind.Int or OptionKind.Number,
        // An integer option takes a quantised draw whose step is whole (q_uniform with q 8 for a rank).
        _ when d.IsQuantised() && p.Kind == OptionKind.Int => q >= 1 && q == Math.Floor(q),
        _ => p.Kind is OptionKind.Number,
    };

    /// <summary>Checks an int against the option's range; returns the problem text or null.</summary>
    public static string? CheckInt(this TrainingOption p, long v, string written) =>
        p.CheckInt(v) is { } need ? $"{p.Key} must be {need}, got {written}" : null;

    public static string? CheckNumber(this TrainingOption p, double v, string written) =>
        p.CheckNumber(v) is { } need ? $"{p.Key} must be {need}, got {written}" : null;

    /// <summary>How a value is shown in trial tables and hashed into trial ids (invariant culture, lists joined).</summary>
    public static string Display(JsonNode node) => node switch
    {
        JsonArray a => "[" + string.Join(",", a.Select(x => Display(x!))) + "]",
        JsonObject o => "{" + string.Join(",", o.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + ":" + Display(kv.Value!))) + "}",
        JsonValue v when v.TryGetValue(out double d) => d.ToString("R", CultureInfo.InvariantCulture),
        JsonValue v when v.TryGetValue(out long l) => l.ToString(CultureInfo.InvariantCulture),
        JsonValue v when v.TryGetValue(out bool b) => b ? "true" : "false",
        JsonValue v when v.TryGetValue(out string? s) => s,
        _ => node.ToJsonString(),
    };
}
