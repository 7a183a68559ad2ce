using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Orchestrator.Trainer.Configuration;

namespace Orchestrator.Sweeps;

internal enum ValueKind { Int, Number, Bool, String, StringList, IntList, IntMap, NumberMap }

/// <summary>A trainer option a sweep may vary, with the rule its values must follow.</summary>
internal sealed record TrainerParameter(string Key, ValueKind Kind, PropertyInfo Property)
{
    public long MinInt { get; init; }
    public long MaxInt { get; init; } = int.MaxValue;
    /// <summary>Number rule: returns the requirement text when the value breaks it, else null.</summary>
    public Func<double, string?> NumberRule { get; init; } = v => double.IsFinite(v) ? null : "a finite number";
    public IReadOnlyList<string>? Allowed { get; init; }
    /// <summary>Part of the adapter (dropped for full fine-tuning and frozen-base baselines).</summary>
    public bool LoraOnly { get; init; }
}

/// <summary>
/// Every snake_case key of <see cref="TrainingConfig"/> is a sweep parameter, found by reflection so a new trainer
/// option is sweepable without touching this project; the table below only adds ranges and allowed values.
/// </summary>
internal static class TrainerParameters
{
    /// <summary>Keys that belong to `task`, not `parameters`.</summary>
    public static readonly IReadOnlySet<string> TaskKeys = new HashSet<string> { "model", "dataset" };

    public static readonly IReadOnlyDictionary<string, TrainerParameter> All = Build();

    /// <summary>Names other tools use for the same knob (PEFT, Hugging Face TrainingArguments, W&amp;B), for "did you mean".</summary>
    public static readonly IReadOnlyDictionary<string, string> Synonyms = new Dictionary<string, string>
    {
        ["learning_rate"] = "lr", ["lora_alpha"] = "alpha", ["lora_dropout"] = "dropout", ["r"] = "rank",
        ["lora_r"] = "rank", ["lora_rank"] = "rank", ["num_train_epochs"] = "epochs", ["num_epochs"] = "epochs",
        ["per_device_train_batch_size"] = "batch_size", ["batch"] = "batch_size", ["lr_scheduler_type"] = "schedule",
        ["scheduler"] = "schedule", ["lr_schedule"] = "schedule", ["init_lora_weights"] = "init",
        ["max_grad_norm"] = "grad_clip", ["eval_steps"] = "eval_every", ["save_steps"] = "checkpoint_every",
        ["max_seq_length"] = "seq_len", ["warmup"] = "warmup_steps", ["modules"] = "target_modules",
        ["rslora"] = "use_rslora", ["steps"] = "max_steps",
    };

    private static Dictionary<string, TrainerParameter> Build()
    {
        var result = new Dictionary<string, TrainerParameter>(StringComparer.Ordinal);
        foreach (var p in typeof(TrainingConfig).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var key = p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name;
            if (key is null || TaskKeys.Contains(key)) continue;
            var t = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            ValueKind kind =
                t == typeof(int) || t == typeof(long) ? ValueKind.Int :
                t == typeof(double) || t == typeof(float) ? ValueKind.Number :
                t == typeof(bool) ? ValueKind.Bool :
                t == typeof(string) ? ValueKind.String :
                typeof(IEnumerable<string>).IsAssignableFrom(t) ? ValueKind.StringList :
                typeof(IEnumerable<int>).IsAssignableFrom(t) ? ValueKind.IntList :
                typeof(IReadOnlyDictionary<string, int>).IsAssignableFrom(t) ? ValueKind.IntMap :
                typeof(IReadOnlyDictionary<string, double>).IsAssignableFrom(t) ? ValueKind.NumberMap :
                throw new InvalidOperationException($"TrainingConfig.{p.Name} has type {t}, which sweeps cannot vary yet");
            var param = new TrainerParameter(key, kind, p)
            {
                MaxInt = t == typeof(long) ? long.MaxValue : int.MaxValue,
                LoraOnly = key is "rank" or "alpha" or "target_modules" or "target_modules_regex" or "layers_to_transform"
                    or "rank_pattern" or "alpha_pattern" or "dropout" or "bias" or "use_rslora" or "init" or "adapter",
            };
            result[key] = key switch
            {
                "rank" => param with { MinInt = 1, MaxInt = 4096 },
                "batch_size" => param with { MinInt = 1, MaxInt = 1 << 20 },
                "epochs" => param with { MaxInt = 100_000 },
                "seq_len" => param with { MinInt = 1, MaxInt = 1 << 16 },
                "alpha" or "lr" => param with { NumberRule = v => double.IsFinite(v) && v > 0 ? null : "a finite number > 0" },
                "dropout" => param with { NumberRule = v => v is >= 0 and < 1 ? null : "a number in [0, 1)" },
                "weight_decay" or "grad_clip" => param with { NumberRule = v => double.IsFinite(v) && v >= 0 ? null : "a finite number ≥ 0" },
                "adapter" => param with { Allowed = AdapterModes.All },
                "bias" => param with { Allowed = BiasModes.Values },
                "init" => param with { Allowed = InitModes.Values },
                "schedule" => param with { Allowed = Schedules.Values },
                _ => param,
            };
        }
        return result;
    }

    /// <summary>Whether a distribution can produce values of this parameter.</summary>
    public static bool Supports(this TrainerParameter p, DistributionKind d) => d switch
    {
        DistributionKind.Categorical => true,
        DistributionKind.IntUniform => p.Kind is ValueKind.Int or ValueKind.Number,
        _ => p.Kind is ValueKind.Number,
    };

    /// <summary>Checks an int against the parameter's range; returns the problem text or null.</summary>
    public static string? CheckInt(this TrainerParameter p, long v, string written) =>
        v < p.MinInt ? $"{p.Key} must be an integer ≥ {p.MinInt}, got {written}" :
        v > p.MaxInt ? $"{p.Key} must be an integer ≤ {p.MaxInt}, got {written}" : null;

    public static string? CheckNumber(this TrainerParameter p, double v, string written) =>
        p.NumberRule(v) is { } need ? $"{p.Key} must be {need}, got {written}" : null;

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

    public static bool IsValidRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
