using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Orchestrator.Trials.Models.Decoders;
using Orchestrator.Trials.Models.HuggingFace;
using Orchestrator.Trials.Models.Named;

namespace Orchestrator.Trials.Configuration;

public enum OptionKind { Int, Number, Bool, String, StringList, IntList, IntMap, NumberMap }

/// <summary>
/// One knob of <see cref="TrainingConfig"/>: its key, type, the values it accepts, its default (the record's
/// initialiser, read back, so it is written once) and its help text. Ranges of list and map kinds apply to entries.
/// </summary>
public sealed class TrainingOption
{
    internal TrainingOption(string key, OptionKind kind, string help)
    {
        Key = key;
        Kind = kind;
        Help = help;
        Property = typeof(TrainingConfig).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Single(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name == key);
        MaxInt = (Nullable.GetUnderlyingType(Property.PropertyType) ?? Property.PropertyType) == typeof(long) ? long.MaxValue : int.MaxValue;
    }

    /// <summary>The snake_case key of sweep files and result.json.</summary>
    public string Key { get; }
    public OptionKind Kind { get; }
    public string Help { get; }
    public PropertyInfo Property { get; }

    public long MinInt { get; internal init; }
    public long MaxInt { get; internal init; }
    public double? MinNumber { get; internal init; }
    public bool MinExclusive { get; internal init; }
    public double? MaxNumber { get; internal init; }
    public bool MaxExclusive { get; internal init; }
    public IReadOnlyList<string>? Allowed { get; internal init; }
    /// <summary>Part of the adapter: meaningless for full fine-tuning and frozen-base baselines.</summary>
    public bool LoraOnly { get; internal init; }
    /// <summary>`model` and `dataset`: a sweep sets them under task, not parameters.</summary>
    public bool IsTask { get; internal init; }

    /// <summary>The command-line spelling: --key with dashes.</summary>
    public string CliName => "--" + Key.Replace('_', '-');

    /// <summary>The default of an option whose JSON leaves it out at its default (gradient_accumulation_steps: null there means this).</summary>
    public long? OmittedAt { get; internal init; }

    public object? Default => Property.GetValue(TrainingOptions.Defaults) ?? (OmittedAt is { } omitted ? (int)omitted : OmittedAsTrue ? true : null);

    /// <summary>A bool left out of the JSON at its default, true (completion_only_loss): null there means true.</summary>
    public bool OmittedAsTrue { get; internal init; }

    /// <summary>The default as help shows it.</summary>
    public string DefaultText => Key == "target_modules"
        ? "the model type's default targets"
        : Default switch
        {
            null => "none",
            string s => s,
            Enum or LoraInitMethod => JsonSerializer.SerializeToNode(Default)!.GetValue<string>(),
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            var other => JsonSerializer.Serialize(other),
        };

    /// <summary>The whole rule in words, e.g. "an integer from 1 to 4096".</summary>
    public string Requirement => Kind switch
    {
        OptionKind.Int => IntRequirement(),
        OptionKind.Number => NumberRequirement(),
        OptionKind.Bool => "true or false",
        OptionKind.String => Allowed is { } a ? "one of " + string.Join(", ", a) : Key == "init" ? "one of " + LoraInitMethod.Described : "text",
        OptionKind.StringList => "a list of names",
        OptionKind.IntList => $"a list of integers, each {IntRequirement()}",
        OptionKind.IntMap => $"a mapping of module pattern to {IntRequirement()}",
        _ => $"a mapping of module pattern to {NumberRequirement()}",
    };

    /// <summary>The bound an integer breaks ("an integer ≥ 1"), or null when it is allowed.</summary>
    public string? CheckInt(long value) =>
        value < MinInt ? $"an integer ≥ {MinInt}" : value > MaxInt ? $"an integer ≤ {MaxInt}" : null;

    /// <summary>The rule a number breaks ("a finite number > 0"), or null when it is allowed.</summary>
    public string? CheckNumber(double value)
    {
        var ok = double.IsFinite(value)
            && (MinNumber is not { } min || (MinExclusive ? value > min : value >= min))
            && (MaxNumber is not { } max || (MaxExclusive ? value < max : value <= max));
        return ok ? null : NumberRequirement();
    }

    /// <summary>The rule a text value breaks, or null when it is allowed.</summary>
    public string? CheckString(string value) =>
        Allowed is { } allowed && !allowed.Contains(value) ? "one of " + string.Join(", ", allowed)
        : Key == "init" && !LoraInitMethod.TryParse(value, out _) ? "one of " + LoraInitMethod.Described
        : Key == "target_modules_regex" && !TrainingOptions.IsValidRegex(value) ? "a valid regular expression"
        : null;

    /// <summary>Checks a value in its JSON form (as result.json and sweeps carry it); returns what it must be, or null.</summary>
    public string? Check(JsonNode? node)
    {
        switch (Kind)
        {
            case OptionKind.Int:
                if (node is null && OmittedAt is not null) return null;
                return node is JsonValue v && v.TryGetValue(out long l) ? CheckInt(l) : IntRequirement();
            case OptionKind.Number:
                if (node is null && Default is 0.0) return null; // left out of the JSON at its default (warmup_ratio)
                return node is JsonValue n && TryNumber(n, out var d) ? CheckNumber(d) : NumberRequirement();
            case OptionKind.Bool:
                if (node is null) return null; // left out of the JSON at its default (pack_sequences, completion_only_loss)
                return node is JsonValue b && b.TryGetValue(out bool _) ? null : Requirement;
            case OptionKind.String:
                if (node is null) return Default is null ? null : Requirement;
                return node is JsonValue s && s.TryGetValue(out string? text) ? CheckString(text!) : Requirement;
            case OptionKind.StringList:
                if (node is null && Default is null) return null; // left out of the JSON when absent (modules_to_save)
                return node is JsonArray names && names.All(x => x is JsonValue xv && xv.TryGetValue(out string? name) && name!.Length > 0) ? null : Requirement;
            case OptionKind.IntList:
                if (node is null) return null;
                return node is JsonArray ints && ints.All(x => x is JsonValue xv && xv.TryGetValue(out long i) && CheckInt(i) is null) ? null : Requirement;
            default:
                if (node is null) return null;
                if (node is not JsonObject map) return Requirement;
                foreach (var (pattern, value) in map)
                {
                    if (!TrainingOptions.IsValidRegex(pattern)) return $"{Requirement} (a valid regular expression as key)";
                    var entryBad = Kind == OptionKind.IntMap
                        ? !(value is JsonValue iv && iv.TryGetValue(out long i) && CheckInt(i) is null)
                        : !(value is JsonValue nv && TryNumber(nv, out var x) && CheckNumber(x) is null);
                    if (entryBad) return Requirement;
                }
                return null;
        }
    }

    private static bool TryNumber(JsonValue value, out double number)
    {
        if (value.TryGetValue(out number)) return true;
        if (value.TryGetValue(out long l)) { number = l; return true; }
        return false;
    }

    private string IntRequirement() => MaxInt >= int.MaxValue ? $"an integer ≥ {MinInt}" : $"an integer from {MinInt} to {MaxInt}";

    private string NumberRequirement()
    {
        static string F(double x) => x.ToString(CultureInfo.InvariantCulture);
        return (MinNumber, MaxNumber) switch
        {
            ({ } min, { } max) => $"a number in {(MinExclusive ? "(" : "[")}{F(min)}, {F(max)}{(MaxExclusive ? ")" : "]")}",
            ({ } min, null) => $"a finite number {(MinExclusive ? ">" : "≥")} {F(min)}",
            (null, { } max) => $"a finite number {(MaxExclusive ? "<" : "≤")} {F(max)}",
            _ => "a finite number",
        };
    }
}

/// <summary>
/// The one rule table of <see cref="TrainingConfig"/>: sweep validation, the <c>train</c> command (its options, help
/// and checks) and the trainer (<see cref="TrainingConfig.Validate"/>) all read it, so a value one accepts the others
/// accept, and an option left out means the same default everywhere.
/// </summary>
public static partial class TrainingOptions
{
    /// <summary>A config with every default: the record's initialisers.</summary>
    public static readonly TrainingConfig Defaults = new();

    /// <summary>PEFT's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING for the model types whose checkpoints we can load (llama's layout; the bert, roberta, distilbert encoders).</summary>
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> PeftDefaultTargets = new Dictionary<string, IReadOnlyList<string>>
    {
        ["llama"] = ["q_proj", "v_proj"], ["mistral"] = ["q_proj", "v_proj"], ["mixtral"] = ["q_proj", "v_proj"],
        ["qwen2"] = ["q_proj", "v_proj"], ["gemma"] = ["q_proj", "v_proj"], ["gemma2"] = ["q_proj", "v_proj"],
        ["bert"] = ["query", "value"], ["roberta"] = ["query", "value"], ["distilbert"] = ["q_lin", "v_lin"],
        // Decoder folders (issue 24): PEFT's mapping for the families the decoder loader reads.
        ["qwen3"] = ["q_proj", "v_proj"], ["gpt2"] = ["c_attn"],
    };

    private const string TargetHelp =
        "LoRA target modules: names matched as the whole module path or a dotted suffix of it, or the single entry all-linear "
        + "(every linear layer but lm_head). Default, when none are given, PEFT's default for the model type: mlp → l1, l2, l3; "
        + "transformer-block → q_proj, v_proj; llama → q_proj, v_proj; that is every linear layer of the small mlp, and the "
        + "attention's query and value projections elsewhere, as PEFT and the LoRA paper (Hugging Face llama-family folders by "
        + "the model_type of their config.json).";

    public static readonly IReadOnlyList<TrainingOption> All =
    [
        new TrainingOption("model", OptionKind.String, "Built-in model (mlp, transformer-block, llama), a pretrained encoder by name (minilm-l6, arctic-xs; fetched once), a decoder pretrained here by name (imdb-llama; pretrained once), or a Hugging Face model folder (llama family; bert, distilbert or roberta encoders for text classification).") { IsTask = true },
        new TrainingOption("dataset", OptionKind.String, "Built-in dataset (mnist, synthetic-regression, text; imdb, labelled movie reviews, with an encoder), a .jsonl file of texts, or a folder of MNIST IDX files; "
            + "with an encoder model, labelled texts: a .jsonl ({\"text\", \"label\"}) or .csv (text,label header) split 80/10/10, or a folder of train/validation/test files.") { IsTask = true },
        new TrainingOption("adapter", OptionKind.String, "What trains: lora (an adapter), full (every weight) or base (nothing; evaluates the frozen base).") { Allowed = ConfigNames<AdapterKind>.All, LoraOnly = true },
        new TrainingOption("rank", OptionKind.Int, "LoRA rank r (PEFT's r).") { MinInt = 1, MaxInt = 4096, LoraOnly = true },
        new TrainingOption("alpha", OptionKind.Number, "LoRA alpha (PEFT's lora_alpha, and its default): the update is scaled by alpha/r "
            + "(alpha/sqrt(r) with use_rslora), so by 1 at the default rank 8; give alpha = rank for scaling 1 at any rank.") { MinNumber = 0, MinExclusive = true, LoraOnly = true },
        new TrainingOption("target_modules", OptionKind.StringList, TargetHelp) { LoraOnly = true },
        new TrainingOption("target_modules_regex", OptionKind.String, "A regular expression matched against the whole module path (PEFT's target_modules given as a string); overrides target_modules.") { LoraOnly = true },
        new TrainingOption("layers_to_transform", OptionKind.IntList, "Adapt only the layers with these indices (N in layers.N.).") { MinInt = 0, LoraOnly = true },
        new TrainingOption("rank_pattern", OptionKind.IntMap, "Per-module rank: a regex matched against the end of the module path → rank.") { MinInt = 1, MaxInt = 4096, LoraOnly = true },
        new TrainingOption("alpha_pattern", OptionKind.NumberMap, "Per-module alpha: a regex matched against the end of the module path → alpha.") { MinNumber = 0, MinExclusive = true, LoraOnly = true },
        new TrainingOption("dropout", OptionKind.Number, "LoRA dropout probability on the adapter's input (PEFT's lora_dropout).") { MinNumber = 0, MaxNumber = 1, MaxExclusive = true, LoraOnly = true },
        new TrainingOption("bias", OptionKind.String, "Which biases train: none, all or lora_only (PEFT's bias).") { Allowed = ConfigNames<BiasMode>.All, LoraOnly = true },
        new TrainingOption("use_rslora", OptionKind.Bool, "Scale by alpha/sqrt(r) instead of alpha/r (rank-stabilised LoRA).") { LoraOnly = true },
        new TrainingOption("init", OptionKind.String, "Adapter initialisation (PEFT's init_lora_weights): kaiming (its default, init_lora_weights=true) or gaussian draw A and zero B; "
            + "pissa (A, B from W's top-r singular vectors scaled by √σ), pissa_niter_K (the same through a randomized SVD with K subspace iterations) and olora (from W's QR) "
            + "start on W's principal part and leave the base the residual W − s·B·A; their adapter is saved against the unmodified base at rank 2r, as PEFT's "
            + "path_initial_model_for_weight_conversion does.") { LoraOnly = true },
        new TrainingOption("lr", OptionKind.Number, "Learning rate (AdamW).") { MinNumber = 0, MinExclusive = true },
        new TrainingOption("weight_decay", OptionKind.Number, "AdamW weight decay.") { MinNumber = 0 },
        new TrainingOption("schedule", OptionKind.String, "Learning-rate schedule: constant, linear or cosine (after the warm-up).") { Allowed = ConfigNames<ScheduleKind>.All },
        new TrainingOption("warmup_steps", OptionKind.Int, "Linear learning-rate warm-up steps."),
        new TrainingOption("warmup_ratio", OptionKind.Number, "Warm-up as a fraction of all steps (Hugging Face's warmup_ratio); used when warmup_steps is 0.") { MinNumber = 0, MaxNumber = 1, MaxExclusive = true },
        new TrainingOption("grad_clip", OptionKind.Number, "Max gradient norm; 0 turns clipping off.") { MinNumber = 0 },
        new TrainingOption("batch_size", OptionKind.Int, "Examples per optimiser step.") { MinInt = 1, MaxInt = 1 << 20 },
        new TrainingOption("gradient_accumulation_steps", OptionKind.Int, "Micro-batches of batch_size per optimiser step (Hugging Face's gradient_accumulation_steps): "
            + "each micro-batch's loss is divided by their number before backward, clipping and the step see the summed gradient, so the effective batch is "
            + "gradient_accumulation_steps × batch_size at one micro-batch's memory; steps, the schedule, max_steps, eval_every and checkpoint_every count optimiser steps. "
            + "Trials with more than 1 train alone, never in a pack.") { MinInt = 1, OmittedAt = 1 },
        new TrainingOption("epochs", OptionKind.Int, "Epochs over the training split; max_steps, when set, decides instead.") { MinInt = 0, MaxInt = 100_000 },
        new TrainingOption("max_steps", OptionKind.Int, "Stop after this many optimiser steps; 0: epochs decide."),
        new TrainingOption("eval_every", OptionKind.Int, "Evaluate every N steps; 0: at the end of every epoch (and always after the last step)."),
        new TrainingOption("checkpoint_every", OptionKind.Int, "Write a checkpoint every N steps; 0: at every evaluation."),
        new TrainingOption("seed", OptionKind.Int, "Seed of initialisation, dropout and data order.") { MinInt = 0 },
        new TrainingOption("seq_len", OptionKind.Int, "Tokens per example for text models (an encoder's texts are truncated and padded to it).") { MinInt = 1, MaxInt = 1 << 16 },
        new TrainingOption("tokenizer", OptionKind.String, "A tokenizer file for the text dataset; byte-level when absent."),
        new TrainingOption("max_train_samples", OptionKind.Int, "Labelled text and instruction data: train on at most this many examples of the training split, a fixed random subset (the same for every trial); 0: all.") { MinInt = 0 },
        new TrainingOption("max_eval_samples", OptionKind.Int, "Labelled text and instruction data: score at most this many examples of the validation and of the test split, fixed random subsets (the same for every trial); 0: all.") { MinInt = 0 },
        new TrainingOption("pooling", OptionKind.String, "Encoders: what the classification head reads, cls (the first token, through BERT's pooler, as transformers' *ForSequenceClassification) or mean (the masked mean of the tokens, sentence-transformers' pooling). When absent, the model's own: mean for minilm-l6 and for sentence-transformers folders whose 1_Pooling/config.json says so, cls otherwise.") { Allowed = ConfigNames<EncoderPooling>.All },
        // Instruction tuning of decoders (TRL SFTTrainer's knobs): which tokens carry the loss, packing, the chat template.
        new TrainingOption("completion_only_loss", OptionKind.Bool, "Prompt/completion rows: the loss on the completion's tokens only (TRL's completion_only_loss); false: on the prompt too.") { OmittedAsTrue = true },
        new TrainingOption("assistant_only_loss", OptionKind.Bool, "Conversations: the loss on the assistant turns only (TRL's assistant_only_loss); false: on every token of the rendered conversation.") { OmittedAsTrue = true },
        new TrainingOption("pack_sequences", OptionKind.Bool, "Pack short examples into full seq_len windows (TRL's packing), positions restarting at 0 for each example; attention is not blocked between examples of a window (the decoders take a [B, T] mask).") ,
        new TrainingOption("chat_template", OptionKind.String, "A Jinja chat-template file rendering conversations instead of the model folder's tokenizer_config.json chat_template."),
        // LoRA variants (issue 25): DoRA and LoRA+.
        new TrainingOption("use_dora", OptionKind.Bool, "DoRA (PEFT's use_dora, Liu et al. 2024): the adapted weight is a trained magnitude per output row times the direction of W + s·B·A; "
            + "the magnitudes (one per output feature of each adapted module) train too and are saved as PEFT's lora_magnitude_vector.") { LoraOnly = true },
        new TrainingOption("loraplus_lr_ratio", OptionKind.Number, "LoRA+ (PEFT's create_loraplus_optimizer, Hayou et al. 2024): lora_B matrices and other 1-D trainable parameters train at this many times lr, "
            + "A and the rest at lr; biases and norms without weight decay. 0: off (one learning rate).") { MinNumber = 0, LoraOnly = true },
        // memory: base precision (issue 27)
        new TrainingOption("base_dtype", OptionKind.String, "The frozen base's weights: fp32 (the default when absent), bf16 or fp16, stored and multiplied in that type (the activations through the base too, "
            + "as transformers with torch_dtype); LoRA's A and B, their gradients and AdamW state stay fp32 and the loss is computed in fp32. "
            + "Decoders (causal language modelling) only, with bias none; not with adapter: full (no fp32 master weights are kept); fp16 only on a device that multiplies in it.") { Allowed = ConfigNames<BaseDtype>.All },
        // memory: quantised base (issue 27)
        new TrainingOption("quantize", OptionKind.String, "The frozen base's linear weights quantised (QLoRA): none (the default when absent), nf4 (4-bit NormalFloat in blocks of 64 with an fp32 absmax each, bitsandbytes' levels) "
            + "or int8 (absmax per output row); each is de-quantised for its own product in the forward and again in the backward, so one layer's full-precision weight exists at a time. "
            + "The output head, embeddings and norms stay in base_dtype. Adapters are the same PEFT files. Decoders only, with adapter lora and bias none.") { Allowed = ConfigNames<QuantizeMode>.All },
        // memory: gradient checkpointing (issue 27)
        new TrainingOption("gradient_checkpointing", OptionKind.Bool, "Keep only each decoder layer's input for the backward and recompute its activations there "
            + "(transformers' gradient_checkpointing_enable()): less activation memory for one more forward per step, with the loss and gradients bit for bit those without. "
            + "Decoders only; not with LoRA dropout (the recomputation would draw new masks). Trials with it train alone, never in a pack."),
        // memory: NF4 double quantisation (issue 27)
        new TrainingOption("double_quant", OptionKind.Bool, "With quantize nf4, QLoRA's double quantisation (bitsandbytes' bnb_4bit_use_double_quant): the fp32 absmax of each "
            + "block of 64 is stored as 8-bit codes (bitsandbytes' dynamic map) in blocks of 256 with one fp32 absmax each, around their fp32 mean: 4.127 instead of 4.5 bits per weight, "
            + "the NF4 codes unchanged."),
        // PEFT's modules_to_save for decoders (issue 24): what a frozen head and norm cannot express, trained in full.
        new TrainingOption("modules_to_save", OptionKind.StringList, "Decoders: modules that train in full beside the adapter and are saved whole in it (PEFT's modules_to_save), "
            + "matched as target_modules are (the whole module path or a dotted suffix: norm is model.norm, not input_layernorm), such as the final norm (norm; GPT-2 ln_f) "
            + "or an untied lm_head. A head tied to the embeddings is refused (training it would change both), and so is a linear layer quantize quantises. With adapter lora and base_dtype fp32; such trials never pack.") { LoraOnly = true },
    ];

    /// <summary>
    /// Hugging Face TrainingArguments and PEFT LoraConfig spellings of our options, accepted wherever a key is (sweep
    /// parameters): what LoRA sweep files written for W&amp;B use. The one alias table; "did you mean" reads it too.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Aliases = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["lora_r"] = "rank", ["r"] = "rank", ["lora_rank"] = "rank", ["lora_alpha"] = "alpha", ["lora_dropout"] = "dropout",
        ["learning_rate"] = "lr", ["num_train_epochs"] = "epochs", ["per_device_train_batch_size"] = "batch_size",
        ["lr_scheduler_type"] = "schedule", ["init_lora_weights"] = "init", ["max_grad_norm"] = "grad_clip",
        ["max_seq_length"] = "seq_len", ["max_length"] = "seq_len",
        // LoRA variants (issue 25): use_dora and loraplus_lr_ratio are already PEFT's spellings; init_lora_weights is above.
        // memory (issue 27): bitsandbytes' quant type names our quantize values (nf4; its fp4 is refused by name)
        ["bnb_4bit_quant_type"] = "quantize",
        // memory (issue 27): NF4 double quantisation
        ["bnb_4bit_use_double_quant"] = "double_quant",
    };

    /// <summary>
    /// Hugging Face flags that pick a value of one of our text options (TrainingArguments' bf16 / fp16, BitsAndBytesConfig's
    /// load_in_4bit / load_in_8bit): true means <c>WhenTrue</c>, false the option's default. Read with <see cref="Aliases"/>:
    /// wherever a sweep accepts an alias, these are accepted too, their booleans mapped to the option's values.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, (string Key, string WhenTrue, string WhenFalse)> FlagAliases =
        new Dictionary<string, (string, string, string)>(StringComparer.Ordinal)
        {
            ["bf16"] = ("base_dtype", BaseDtype.Bf16.ConfigName(), BaseDtype.Fp32.ConfigName()), ["fp16"] = ("base_dtype", BaseDtype.Fp16.ConfigName(), BaseDtype.Fp32.ConfigName()),
            ["load_in_4bit"] = ("quantize", QuantizeMode.Nf4.ConfigName(), QuantizeMode.None.ConfigName()), ["load_in_8bit"] = ("quantize", QuantizeMode.Int8.ConfigName(), QuantizeMode.None.ConfigName()),
        };

    private static readonly Dictionary<string, TrainingOption> ByKey = All.ToDictionary(o => o.Key, StringComparer.Ordinal);

    public static TrainingOption Get(string key) =>
        ByKey.TryGetValue(key, out var option) ? option : throw new ArgumentException($"'{key}' is not a training option", nameof(key));

    public static bool TryGet(string key, out TrainingOption option) => ByKey.TryGetValue(key, out option!);

    /// <summary>
    /// The target modules used when a config names none (PEFT's default for the model type), or null when the
    /// model type has none (PEFT then asks for target_modules too).
    /// </summary>
    public static IReadOnlyList<string>? DefaultTargetModules(string model)
    {
        switch (model)
        {
            case BuiltInModels.Mlp: return ["l1", "l2", "l3"];
            case BuiltInModels.TransformerBlock: return ["q_proj", "v_proj"];
            case BuiltInModels.Llama: return PeftDefaultTargets["llama"];
        }
        if (LinearModelName.Parse(model) is not null) return [LinearModelName.ModulePath];
        if (NamedEncoders.Find(model) is { } named) return named.Config.DefaultTargetModules;
        var configFile = Path.Combine(model, "config.json");
        if (!File.Exists(configFile))
            return Directory.Exists(model) ? null : PeftDefaultTargets["llama"]; // not here (a silo's folder): our only loader is llama's
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(configFile));
            return document.RootElement.TryGetProperty("model_type", out var type) && type.ValueKind == JsonValueKind.String
                && PeftDefaultTargets.TryGetValue(type.GetString()!, out var targets) ? targets : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The option table's own rules (types, ranges, allowed words) over a config's JSON, without reading any file: what
    /// a sweep grain checks a submitted plan's configs with. <see cref="Problems"/> checks these and the rest.
    /// </summary>
    public static IEnumerable<TrainingConfigProblem> OptionProblems(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        foreach (var option in All)
        {
            var node = json[option.Key];
            if (option.Check(node) is { } need)
                yield return new(option.Key, $"{option.Key} must be {need}, got {Shown(node)}");
        }
    }

    /// <summary>Every rule <paramref name="config"/> breaks; empty when it is valid.</summary>
    public static IReadOnlyList<TrainingConfigProblem> Problems(TrainingConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var problems = new List<TrainingConfigProblem>(OptionProblems(JsonSerializer.SerializeToNode(config)!.AsObject()));
        if (config.Model.Trim().Length == 0) problems.Add(new("model", "model must not be empty"));
        if (config.Dataset.Trim().Length == 0) problems.Add(new("dataset", "dataset must not be empty"));
        if (config.Epochs == 0 && config.MaxSteps == 0)
            problems.Add(new("epochs", "epochs 0 with max_steps 0 trains nothing; set one of them"));
        if ((config.MaxTrainSamples > 0 || config.MaxEvalSamples > 0)
            && MetricNames.TaskOf(config.Model, config.Dataset) is { } task && task is not (TaskKind.TextClassification or TaskKind.InstructionTuning or TaskKind.InstructionLabels))
            problems.Add(new(config.MaxTrainSamples > 0 ? "max_train_samples" : "max_eval_samples",
                $"max_train_samples and max_eval_samples subset labelled text for an encoder or instruction data for a decoder; dataset '{config.Dataset}' with model '{config.Model}' is {task}"));
        if (config.Pooling is not null && MetricNames.TaskOf(config.Model, config.Dataset) is { } kind && kind != TaskKind.TextClassification)
            problems.Add(new("pooling", $"pooling chooses an encoder's classification head; model '{config.Model}' with dataset '{config.Dataset}' is {kind}"));
        if (EncoderConfig.Of(config.Model) is { } encoder && config.SequenceLength > encoder.MaxSequenceLength)
            problems.Add(new("seq_len", $"seq_len must be at most {encoder.MaxSequenceLength} for model {config.Model} (its position embeddings), got {config.SequenceLength}"));
        if (config.Adapter == AdapterKind.Lora) problems.AddRange(TargetProblems(config));
        problems.AddRange(DecoderFolderProblems(config));
        if (config.Adapter == AdapterKind.Lora && config.Init.ChangesBase && config.UseRslora && (config.RankPattern is { Count: > 0 } || config.AlphaPattern is { Count: > 0 }))
            problems.Add(new("init", $"init '{config.Init}' is saved against the unmodified base at rank 2r, which PEFT cannot express with use_rslora and rank_pattern or alpha_pattern together; drop one of them"));
        problems.AddRange(BaseDtypeProblems(config));
        if (config.Adapter == AdapterKind.Lora && (config.UseDora || config.Init.ChangesBase)
            && (config.BaseDtype.IsHalf() || config.Quantize.IsQuantized()))
            // DoRA's column norms and PiSSA / OLoRA's rewrite of W read the base weight in full precision; with a half or
            // quantised base that path is not built (PEFT dequantises for them), so it is refused rather than run wrong.
            problems.Add(new(config.UseDora ? "use_dora" : "init",
                $"{(config.UseDora ? "use_dora" : $"init {config.Init}")} needs the base weight in fp32; it is not supported with base_dtype {(config.BaseDtype ?? BaseDtype.Fp32).ConfigName()} and quantize {(config.Quantize ?? QuantizeMode.None).ConfigName()}"));
        problems.AddRange(QuantizeProblems(config));
        if (config.GradientCheckpointing && MetricNames.TaskOf(config.Model, config.Dataset) is { } layered && !MetricNames.IsLanguageModelling(layered))
            problems.Add(new("gradient_checkpointing", $"gradient_checkpointing recomputes decoder layers; model '{config.Model}' on dataset '{config.Dataset}' is {layered}; remove it"));
        problems.AddRange(ModulesToSaveProblems(config));
        if (config.GradientCheckpointing && config.Adapter == AdapterKind.Lora && config.Dropout > 0)
            problems.Add(new("gradient_checkpointing", $"gradient_checkpointing recomputes each layer in the backward, where LoRA dropout {config.Dropout} would draw other masks than the forward's; use dropout 0"));
        return problems;
    }

    /// <summary>
    /// A local Hugging Face folder that is not an encoder must be a decoder this project loads (its model_type, rope
    /// scaling and weights), and seq_len must fit its positions: refused here, before any training.
    /// </summary>
    private static IEnumerable<TrainingConfigProblem> DecoderFolderProblems(TrainingConfig config)
    {
        var folder = Directory.Exists(config.Model) ? config.Model : null;
        if (folder is null || !File.Exists(Path.Combine(folder, "config.json")) || EncoderConfig.IsEncoderFolder(folder)) yield break;
        DecoderArchitecture decoder;
        string? error = null;
        try
        {
            decoder = DecoderArchitecture.Load(folder);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            decoder = null!;
            error = e.Message;
        }
        if (error is not null)
        {
            yield return new("model", $"model folder '{folder}': {error} (encoders: bert, distilbert, roberta)");
            yield break;
        }
        if (!File.Exists(Path.Combine(folder, "model.safetensors")) && !File.Exists(Path.Combine(folder, "model.safetensors.index.json")))
            yield return new("model", $"model folder '{folder}' has no weights: neither model.safetensors nor model.safetensors.index.json");
        if (config.SequenceLength > decoder.MaxPositions)
            yield return new("seq_len", $"seq_len must be at most {decoder.MaxPositions} for model {config.Model} ({decoder.ModelType}: its positions), got {config.SequenceLength}");
    }

    /// <summary>Where a half-precision base cannot train: full fine-tuning (no fp32 master weights here) and models fed float features.</summary>
    private static IEnumerable<TrainingConfigProblem> BaseDtypeProblems(TrainingConfig config)
    {
        if (config.BaseDtype is not { } dtype || !config.BaseDtype.IsHalf()) yield break;
        var name = dtype.ConfigName();
        if (config.Adapter == AdapterKind.Full)
            yield return new("base_dtype", $"base_dtype {name} stores frozen weights in half precision, but adapter full trains every weight and no fp32 master copy is kept; "
                + "use base_dtype fp32 with adapter full, or adapter lora");
        if (MetricNames.TaskOf(config.Model, config.Dataset) is { } task && !MetricNames.IsLanguageModelling(task))
            yield return new("base_dtype", $"base_dtype {name} is for decoders (causal language modelling, token ids in); model '{config.Model}' on dataset '{config.Dataset}' is {task}; use base_dtype fp32");
        if (config.Adapter == AdapterKind.Lora && config.Bias != BiasMode.None)
            yield return new("base_dtype", $"base_dtype {name} keeps every frozen layer in half precision, but bias {config.Bias.ConfigName()} trains the base's biases; use bias none or base_dtype fp32");
    }

    /// <summary>modules_to_save: decoders' LoRA trials on an fp32 base (the saved modules train in fp32 beside the adapter).</summary>
    private static IEnumerable<TrainingConfigProblem> ModulesToSaveProblems(TrainingConfig config)
    {
        const string key = "modules_to_save";
        if (config.ModulesToSave is not { } modules) yield break;
        if (modules.Count == 0 || modules.Any(m => m.Trim().Length == 0))
            yield return new(key, "modules_to_save must list module names (or be left out)");
        if (config.Adapter != AdapterKind.Lora)
            yield return new(key, $"modules_to_save trains modules beside a LoRA adapter; adapter {config.Adapter.ConfigName()} {(config.Adapter == AdapterKind.Full ? "trains every weight already" : "trains nothing")}; remove it");
        if (MetricNames.TaskOf(config.Model, config.Dataset) is { } task && !MetricNames.IsLanguageModelling(task))
            yield return new(key, $"modules_to_save is for decoders (causal language modelling; an encoder's classifier head is saved already); model '{config.Model}' on dataset '{config.Dataset}' is {task}; remove it");
        if (config.BaseDtype.IsHalf())
            yield return new(key, $"modules_to_save trains modules of the base in fp32, but base_dtype {config.BaseDtype!.Value.ConfigName()} stores them in half precision (no fp32 master copy is kept); use base_dtype fp32 (with quantize, the norms and lm_head stay fp32)");
    }

    /// <summary>Where a quantised base cannot train: anything but LoRA on a decoder with frozen biases.</summary>
    private static IEnumerable<TrainingConfigProblem> QuantizeProblems(TrainingConfig config)
    {
        if (config.DoubleQuant && config.Quantize != QuantizeMode.Nf4)
            yield return new("double_quant", $"double_quant quantises NF4's block scales, but quantize is {(config.Quantize ?? QuantizeMode.None).ConfigName()}; use quantize nf4 or remove double_quant");
        if (config.Quantize is not { } quantize || !config.Quantize.IsQuantized()) yield break;
        var name = quantize.ConfigName();
        if (config.Adapter == AdapterKind.Full)
            yield return new("quantize", $"quantize {name} freezes the base in {name}, but adapter full trains every weight; use adapter lora (QLoRA) or quantize none");
        if (MetricNames.TaskOf(config.Model, config.Dataset) is { } task && !MetricNames.IsLanguageModelling(task))
            yield return new("quantize", $"quantize {name} is for decoders (causal language modelling); model '{config.Model}' on dataset '{config.Dataset}' is {task}; use quantize none");
        if (config.Adapter == AdapterKind.Lora && config.Bias != BiasMode.None)
            yield return new("quantize", $"quantize {name} freezes the base, but bias {config.Bias.ConfigName()} trains its biases; use bias none");
    }

    private static IEnumerable<TrainingConfigProblem> TargetProblems(TrainingConfig config)
    {
        const string key = "target_modules";
        var targets = config.TargetModules;
        if (targets.Distinct(StringComparer.Ordinal).Count() != targets.Count)
            yield return new(key, $"{key} lists a module twice: [{string.Join(", ", targets)}]");
        if (targets.Contains("all-linear") && targets.Count > 1)
            yield return new(key, "all-linear must be the only entry of target_modules");
        if (config.TargetModulesRegex is not null) yield break;
        if (targets.Count == 0)
        {
            if (DefaultTargetModules(config.Model) is null)
                yield return new(key, $"model '{config.Model}' has no default target modules; give target_modules or target_modules_regex");
            yield break;
        }
        if (TargetableModules(config.Model) is not { } known) yield break;
        foreach (var target in targets)
        {
            if (target == "all-linear" || known.Any(path => path == target || path.EndsWith("." + target, StringComparison.Ordinal))) continue;
            yield return new(key, $"unknown target module '{target}' for model {config.Model}; its linear modules are {DescribeModules(known)} (or all-linear)");
        }
    }

    /// <summary>
    /// The linear modules LoRA may target in a model known without loading anything (built-ins, named encoders; an
    /// encoder's head is modules_to_save, never a target), or null when only loading the model would tell.
    /// </summary>
    public static IReadOnlyList<string>? TargetableModules(string model)
    {
        if (BuiltInModels.LinearModules(model) is { } builtIn) return builtIn;
        if (DecoderArchitecture.Of(model) is { } decoder) return decoder.Linears.Select(l => l.Path).ToList();
        if (NamedEncoders.Find(model) is not { } named) return null;
        return named.Config.LinearModules(2).Where(l => !named.Config.HeadModules.Any(h => l.Path.StartsWith(h, StringComparison.Ordinal)))
            .Select(l => l.Path).ToList();
    }

    /// <summary>Module paths for a message, layer stacks shown once: encoder.layer.N.attention.self.query rather than six copies.</summary>
    public static string DescribeModules(IEnumerable<string> paths) =>
        string.Join(", ", paths.Select(path => LayerIndex().Replace(path, ".N.")).Distinct(StringComparer.Ordinal));

    [GeneratedRegex(@"\.\d+\.")]
    private static partial Regex LayerIndex();

    private static string Shown(JsonNode? node) => node switch
    {
        null => "nothing",
        JsonValue v when v.TryGetValue(out string? s) => $"'{s}'",
        _ => node.ToJsonString(),
    };

    /// <summary>
    /// Names people write for an option that sweep files do not accept (too loose to alias, or W&amp;B / Lightning
    /// shorthands), offered as "did you mean" only. Accepted spellings are in <see cref="Aliases"/>.
    /// </summary>
    private static readonly IReadOnlyDictionary<string, string> Hints = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["num_epochs"] = "epochs", ["batch"] = "batch_size", ["scheduler"] = "schedule", ["lr_schedule"] = "schedule",
        ["eval_steps"] = "eval_every", ["save_steps"] = "checkpoint_every", ["warmup"] = "warmup_steps",
        ["modules"] = "target_modules", ["rslora"] = "use_rslora", ["steps"] = "max_steps",
    };

    /// <summary>Every other name of an option, accepted or only suggested: what "did you mean" reads.</summary>
    public static IReadOnlyDictionary<string, string> Synonyms => Aliases.Concat(Hints).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

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
