using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Models.Decoders;

namespace Orchestrator.Trainer.Peft;

/// <summary>
/// PEFT's <c>LoraConfig</c> as it appears in <c>adapter_config.json</c>. <see cref="ToJson"/> writes the keys PEFT
/// 0.13 knows (no more: 0.13 refuses unknown keys), sorted and indented like PEFT's <c>save_pretrained</c>;
/// <see cref="FromJson"/> accepts files from later PEFT versions and ignores the keys it has no property for.
/// </summary>
public sealed record PeftAdapterConfig
{
    public const string FileName = "adapter_config.json";
    public const string LoraPeftType = "LORA";
    public const string CausalLmTaskType = "CAUSAL_LM";
    public const string SequenceClassificationTaskType = "SEQ_CLS";

    public string PeftType { get; init; } = LoraPeftType;
    /// <summary>PEFT's task_type (`CAUSAL_LM`, …); null for models PEFT has no task for.</summary>
    public string? TaskType { get; init; }
    public int R { get; init; } = 8;
    public double LoraAlpha { get; init; } = 8;
    /// <summary>Module names (PEFT matches them as path suffixes). Null when <see cref="TargetModulesRegex"/> is used.</summary>
    public IReadOnlyList<string>? TargetModules { get; init; }
    /// <summary>PEFT's target_modules given as a string: a regex matched against the whole module path.</summary>
    public string? TargetModulesRegex { get; init; }
    public double LoraDropout { get; init; }
    public BiasMode Bias { get; init; } = BiasMode.None;
    public bool UseRslora { get; init; }
    public bool UseDora { get; init; }
    /// <summary>PEFT's init_lora_weights as text: `true` (Kaiming-uniform A, zero B), `false`, or a method name such as `gaussian`.</summary>
    public string InitLoraWeights { get; init; } = "true";
    public string? BaseModelNameOrPath { get; init; }
    public string? Revision { get; init; }
    public bool FanInFanOut { get; init; }
    public bool InferenceMode { get; init; } = true;
    public IReadOnlyList<string>? ModulesToSave { get; init; }
    public IReadOnlyList<int>? LayersToTransform { get; init; }
    public string? LayersPattern { get; init; }
    public IReadOnlyDictionary<string, int> RankPattern { get; init; } = new Dictionary<string, int>();
    public IReadOnlyDictionary<string, double> AlphaPattern { get; init; } = new Dictionary<string, double>();

    /// <summary>The factor the adapter's product B·A is multiplied by: alpha/r, or alpha/sqrt(r) with rsLoRA.</summary>
    public double Scaling => UseRslora ? LoraAlpha / Math.Sqrt(R) : LoraAlpha / R;

    /// <summary>
    /// The config of an adapter trained with <paramref name="config"/>. With `all-linear`, target_modules lists the
    /// distinct leaf names of <paramref name="adaptedModulePaths"/>, as PEFT records it after resolving `all-linear`.
    /// </summary>
    public static PeftAdapterConfig FromTrainingConfig(TrainingConfig config, IReadOnlyList<string> adaptedModulePaths, string baseModelName,
        IReadOnlyList<string>? modulesToSave = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(adaptedModulePaths);
        var allLinear = config.TargetModules is ["all-linear"];
        var decoder = DecoderArchitecture.Of(config.Model);
        IReadOnlyList<string>? targets = config.TargetModulesRegex is not null
            ? null
            : allLinear || config.TargetModules.Count == 0
                ? adaptedModulePaths.Select(p => p[(p.LastIndexOf('.') + 1)..]).Distinct().Order(StringComparer.Ordinal).ToArray()
                : config.TargetModules.ToArray();
        // PiSSA / OLoRA adapters are saved against the unmodified base (LoraWeights.GetAgainstUnmodifiedBase): rank 2r at
        // the same scaling, written as PEFT's save_pretrained(path_initial_model_for_weight_conversion=…) writes them.
        var converted = config.Init.ChangesBase;
        var rankFactor = converted ? 2 : 1;
        var alphaFactor = !converted ? 1.0 : config.UseRslora ? Math.Sqrt(2) : 2.0;
        return new PeftAdapterConfig
        {
            // A decoder's (language modelling, its modules_to_save or not); else an encoder's classifier, whose head is its modules_to_save.
            TaskType = config.Model == "llama" || config.Dataset == "text" || decoder is not null ? CausalLmTaskType
                : modulesToSave is { Count: > 0 } ? SequenceClassificationTaskType
                : null,
            FanInFanOut = decoder?.FanInFanOut ?? false,
            R = config.Rank * rankFactor,
            LoraAlpha = config.Alpha * alphaFactor,
            TargetModules = targets,
            TargetModulesRegex = config.TargetModulesRegex,
            LoraDropout = config.Dropout,
            Bias = config.Bias,
            UseRslora = config.UseRslora,
            UseDora = config.UseDora,
            InitLoraWeights = config.Init.Kind == LoraInitKind.Gaussian ? "gaussian" : "true",
            BaseModelNameOrPath = baseModelName,
            LayersToTransform = config.LayersToTransform?.ToArray(),
            ModulesToSave = modulesToSave is { Count: > 0 } ? modulesToSave.ToArray() : null,
            RankPattern = config.RankPattern is null ? new Dictionary<string, int>() : config.RankPattern.ToDictionary(kv => kv.Key, kv => kv.Value * rankFactor),
            AlphaPattern = config.AlphaPattern is null ? new Dictionary<string, double>() : config.AlphaPattern.ToDictionary(kv => kv.Key, kv => kv.Value * rankFactor),
        };
    }

    public string ToJson()
    {
        // Values of each key, in the order json.dumps(sort_keys=True) puts them.
        var entries = new SortedDictionary<string, Action<Utf8JsonWriter>>(StringComparer.Ordinal)
        {
            ["alpha_pattern"] = w => WriteMap(w, AlphaPattern, (x, v) => WriteNumber(x, v)),
            ["auto_mapping"] = w => w.WriteNullValue(),
            ["base_model_name_or_path"] = w => WriteStringOrNull(w, BaseModelNameOrPath),
            ["bias"] = w => w.WriteStringValue(Bias.ConfigName()),
            ["fan_in_fan_out"] = w => w.WriteBooleanValue(FanInFanOut),
            ["inference_mode"] = w => w.WriteBooleanValue(InferenceMode),
            ["init_lora_weights"] = w =>
            {
                if (InitLoraWeights is "true" or "false") w.WriteBooleanValue(InitLoraWeights == "true");
                else w.WriteStringValue(InitLoraWeights);
            },
            ["layer_replication"] = w => w.WriteNullValue(),
            ["layers_pattern"] = w => WriteStringOrNull(w, LayersPattern),
            ["layers_to_transform"] = w => WriteList(w, LayersToTransform, (x, v) => x.WriteNumberValue(v)),
            ["loftq_config"] = w => { w.WriteStartObject(); w.WriteEndObject(); },
            ["lora_alpha"] = w => WriteNumber(w, LoraAlpha),
            ["lora_dropout"] = w => w.WriteRawValue(PythonFloat(LoraDropout)),
            ["megatron_config"] = w => w.WriteNullValue(),
            ["megatron_core"] = w => w.WriteStringValue("megatron.core"),
            ["modules_to_save"] = w => WriteList(w, ModulesToSave, (x, v) => x.WriteStringValue(v)),
            ["peft_type"] = w => w.WriteStringValue(PeftType),
            ["r"] = w => w.WriteNumberValue(R),
            ["rank_pattern"] = w => WriteMap(w, RankPattern, (x, v) => x.WriteNumberValue(v)),
            ["revision"] = w => WriteStringOrNull(w, Revision),
            ["target_modules"] = w =>
            {
                if (TargetModulesRegex is not null) w.WriteStringValue(TargetModulesRegex);
                else WriteList(w, TargetModules, (x, v) => x.WriteStringValue(v));
            },
            ["task_type"] = w => WriteStringOrNull(w, TaskType),
            ["use_dora"] = w => w.WriteBooleanValue(UseDora),
            ["use_rslora"] = w => w.WriteBooleanValue(UseRslora),
        };
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Indented = true,
            IndentSize = 2,
            NewLine = "\n",
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            writer.WriteStartObject();
            foreach (var (key, write) in entries)
            {
                writer.WritePropertyName(key);
                write(writer);
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Parses an adapter_config.json; <paramref name="source"/> names the file in errors.</summary>
    public static PeftAdapterConfig FromJson(string json, string source = FileName)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON ({e.Message}).", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{source}: expected a JSON object.");
            }
            var peftType = String(root, "peft_type", source) ?? throw new InvalidDataException($"{source}: 'peft_type' is missing.");
            if (peftType != LoraPeftType)
            {
                throw new InvalidDataException($"{source}: peft_type is '{peftType}'; only '{LoraPeftType}' adapters are supported.");
            }
            var target = Get(root, "target_modules");
            var init = Get(root, "init_lora_weights");
            return new PeftAdapterConfig
            {
                PeftType = peftType,
                TaskType = String(root, "task_type", source),
                R = Get(root, "r") is { ValueKind: JsonValueKind.Number } r ? r.GetInt32() : 8,
                LoraAlpha = Get(root, "lora_alpha") is { ValueKind: JsonValueKind.Number } a ? a.GetDouble() : 8,
                TargetModules = target is { ValueKind: JsonValueKind.Array } list ? list.EnumerateArray().Select(e => e.GetString()!).ToArray() : null,
                TargetModulesRegex = target is { ValueKind: JsonValueKind.String } regex ? regex.GetString() : null,
                LoraDropout = Get(root, "lora_dropout") is { ValueKind: JsonValueKind.Number } d ? d.GetDouble() : 0,
                Bias = String(root, "bias", source) is not { } bias ? BiasMode.None
                    : ConfigNames<BiasMode>.TryParse(bias, out var mode) ? mode
                    : throw new InvalidDataException($"{source}: bias is '{bias}'; expected one of {string.Join(", ", ConfigNames<BiasMode>.All)}."),
                UseRslora = Get(root, "use_rslora") is { ValueKind: JsonValueKind.True },
                UseDora = Get(root, "use_dora") is { ValueKind: JsonValueKind.True },
                InitLoraWeights = init switch
                {
                    { ValueKind: JsonValueKind.False } => "false",
                    { ValueKind: JsonValueKind.String } s => s.GetString()!,
                    _ => "true",
                },
                BaseModelNameOrPath = String(root, "base_model_name_or_path", source),
                Revision = String(root, "revision", source),
                FanInFanOut = Get(root, "fan_in_fan_out") is { ValueKind: JsonValueKind.True },
                InferenceMode = Get(root, "inference_mode") is not { ValueKind: JsonValueKind.False },
                ModulesToSave = Get(root, "modules_to_save") is { ValueKind: JsonValueKind.Array } m ? m.EnumerateArray().Select(e => e.GetString()!).ToArray() : null,
                LayersToTransform = Get(root, "layers_to_transform") switch
                {
                    { ValueKind: JsonValueKind.Array } l => l.EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                    { ValueKind: JsonValueKind.Number } n => [n.GetInt32()],
                    _ => null,
                },
                LayersPattern = Get(root, "layers_pattern") is { ValueKind: JsonValueKind.String } p ? p.GetString() : null,
                RankPattern = Get(root, "rank_pattern") is { ValueKind: JsonValueKind.Object } rp
                    ? rp.EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetInt32()) : new Dictionary<string, int>(),
                AlphaPattern = Get(root, "alpha_pattern") is { ValueKind: JsonValueKind.Object } ap
                    ? ap.EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetDouble()) : new Dictionary<string, double>(),
            };
        }
    }

    private static JsonElement? Get(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value : null;

    private static string? String(JsonElement root, string name, string source) => Get(root, name) switch
    {
        null or { ValueKind: JsonValueKind.Null } => null,
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        var other => throw new InvalidDataException($"{source}: '{name}' should be a string, not {other.Value.ValueKind}."),
    };

    private static void WriteStringOrNull(Utf8JsonWriter writer, string? value)
    {
        if (value is null) writer.WriteNullValue();
        else writer.WriteStringValue(value);
    }

    private static void WriteList<T>(Utf8JsonWriter writer, IReadOnlyList<T>? values, Action<Utf8JsonWriter, T> write)
    {
        if (values is null)
        {
            writer.WriteNullValue();
            return;
        }
        writer.WriteStartArray();
        foreach (var value in values) write(writer, value);
        writer.WriteEndArray();
    }

    private static void WriteMap<T>(Utf8JsonWriter writer, IReadOnlyDictionary<string, T> map, Action<Utf8JsonWriter, T> write)
    {
        writer.WriteStartObject();
        foreach (var (key, value) in map.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            writer.WritePropertyName(key);
            write(writer, value);
        }
        writer.WriteEndObject();
    }

    // PEFT keeps lora_alpha an int when it is one (its default is 8); anything fractional is a Python float.
    private static void WriteNumber(Utf8JsonWriter writer, double value)
    {
        if (value == Math.Floor(value) && Math.Abs(value) < 1e15) writer.WriteNumberValue((long)value);
        else writer.WriteRawValue(PythonFloat(value));
    }

    /// <summary>Python's repr of a float: `0.0`, `0.05`, `1e-05`.</summary>
    private static string PythonFloat(double value)
    {
        if (value == Math.Floor(value) && Math.Abs(value) < 1e16) return ((long)value).ToString(CultureInfo.InvariantCulture) + ".0";
        return value.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);
    }
}
