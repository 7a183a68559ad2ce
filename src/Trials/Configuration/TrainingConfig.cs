using System.Text.Json.Serialization;
using Orchestrator.Trials.Models.HuggingFace;

namespace Orchestrator.Trials.Configuration;

/// <summary>
/// Everything that decides one training run. Serialised as-is (snake_case, the same keys a sweep file uses for
/// its parameters), so `result.json`, the manifest and the sweep agree on names. Defaults follow PEFT's LoraConfig
/// where it has the knob. The initialisers below are the only defaults; the rules and help of every key are in
/// <see cref="TrainingOptions"/>.
/// </summary>
/// <remarks>
/// Closed sets are enums spelled by <see cref="ConfigNames{T}"/>; each such property names its converter, since a
/// converter on the property outranks one in the caller's options (the CLI's and dashboard's camelCase enum converter).
/// </remarks>
public sealed record TrainingConfig
{
    /// <summary>Every rule of <see cref="TrainingOptions"/> this config breaks; empty when it can train.</summary>
    public IReadOnlyList<TrainingConfigProblem> Problems() => TrainingOptions.Problems(this);

    /// <summary>Throws when the config breaks a rule, before anything is loaded or trained.</summary>
    /// <exception cref="InvalidTrainingConfigException">Listing every broken rule.</exception>
    public TrainingConfig Validate()
    {
        var problems = Problems();
        return problems.Count == 0 ? this : throw new InvalidTrainingConfigException(problems);
    }

    // --- task -------------------------------------------------------------------------------------------------
    /// <summary>Built-in model name (`mlp`, `transformer-block`, `llama`) or a Hugging Face model folder (llama family, or a bert / distilbert / roberta encoder).</summary>
    [JsonPropertyName("model")] public string Model { get; init; } = "mlp";
    /// <summary>Built-in dataset name (`mnist`, `synthetic-regression`, `text`) or a path (labelled .jsonl / .csv or a folder of splits with an encoder model).</summary>
    [JsonPropertyName("dataset")] public string Dataset { get; init; } = "mnist";
    /// <summary>`lora` (adapter), `full` (every weight trains) or `base` (evaluate the frozen base only).</summary>
    [JsonPropertyName("adapter"), JsonConverter(typeof(ConfigEnumConverter<AdapterKind>))] public AdapterKind Adapter { get; init; } = AdapterKind.Lora;

    // --- LoRA (PEFT LoraConfig) ---------------------------------------------------------------------------------
    [JsonPropertyName("rank")] public int Rank { get; init; } = 8;
    [JsonPropertyName("alpha")] public double Alpha { get; init; } = 8;
    /// <summary>Module names (exact or path-suffix), or the single entry `all-linear`; empty: the model type's default (<see cref="TrainingOptions.DefaultTargetModules"/>).</summary>
    [JsonPropertyName("target_modules")] public IReadOnlyList<string> TargetModules { get; init; } = [];
    /// <summary>A regex matched against the whole module path (PEFT: target_modules given as a string). Overrides <see cref="TargetModules"/>.</summary>
    [JsonPropertyName("target_modules_regex")] public string? TargetModulesRegex { get; init; }
    [JsonPropertyName("layers_to_transform")] public IReadOnlyList<int>? LayersToTransform { get; init; }
    [JsonPropertyName("rank_pattern")] public IReadOnlyDictionary<string, int>? RankPattern { get; init; }
    [JsonPropertyName("alpha_pattern")] public IReadOnlyDictionary<string, double>? AlphaPattern { get; init; }
    [JsonPropertyName("dropout")] public double Dropout { get; init; }
    /// <summary>`none`, `all` or `lora_only` (PEFT's bias).</summary>
    [JsonPropertyName("bias"), JsonConverter(typeof(ConfigEnumConverter<BiasMode>))] public BiasMode Bias { get; init; } = BiasMode.None;
    [JsonPropertyName("use_rslora")] public bool UseRslora { get; init; }
    /// <summary>`kaiming` (PEFT's default, init_lora_weights=true), `gaussian`, `pissa`, `pissa_niter_K` or `olora` (<see cref="LoraInitMethod"/>).</summary>
    [JsonPropertyName("init")] public LoraInitMethod Init { get; init; } = LoraInitMethod.Kaiming;

    // --- optimisation -------------------------------------------------------------------------------------------
    [JsonPropertyName("lr")] public double LearningRate { get; init; } = 1e-3;
    [JsonPropertyName("weight_decay")] public double WeightDecay { get; init; } = 0.01;
    /// <summary>`constant`, `linear` or `cosine`.</summary>
    [JsonPropertyName("schedule"), JsonConverter(typeof(ConfigEnumConverter<ScheduleKind>))] public ScheduleKind Schedule { get; init; } = ScheduleKind.Constant;
    [JsonPropertyName("warmup_steps")] public int WarmupSteps { get; init; }
    /// <summary>Warm-up as a fraction of the steps (Hugging Face's warmup_ratio), used when warmup_steps is 0. Left out of the JSON at 0, so configs written before it keep their bytes (and their checkpoints' config hash).</summary>
    [JsonPropertyName("warmup_ratio"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public double WarmupRatio { get; init; }
    /// <summary>Max gradient norm; 0 turns clipping off.</summary>
    [JsonPropertyName("grad_clip")] public double GradClip { get; init; } = 1.0;
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; } = 64;
    /// <summary>
    /// Micro-batches of <see cref="BatchSize"/> per optimiser step (Hugging Face's gradient_accumulation_steps): the
    /// effective batch is their product; steps, the schedule, max_steps and eval/checkpoint cadence count optimiser steps.
    /// </summary>
    [JsonIgnore] public int GradientAccumulationSteps { get; init; } = 1;
    /// <summary>The JSON form of <see cref="GradientAccumulationSteps"/>: left out at 1, so configs written before it keep their bytes (and their checkpoints' config hash).</summary>
    [JsonPropertyName("gradient_accumulation_steps"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public int? GradientAccumulationStepsWritten
    {
        get => GradientAccumulationSteps == 1 ? null : GradientAccumulationSteps;
        init => GradientAccumulationSteps = value ?? 1;
    }
    [JsonPropertyName("epochs")] public int Epochs { get; init; } = 1;
    /// <summary>Stop after this many optimiser steps; 0 means epochs decide.</summary>
    [JsonPropertyName("max_steps")] public int MaxSteps { get; init; }
    /// <summary>Evaluate every N steps; 0 means at the end of every epoch (and after the last step).</summary>
    [JsonPropertyName("eval_every")] public int EvalEvery { get; init; }
    /// <summary>Write a checkpoint every N steps; 0 means at every evaluation.</summary>
    [JsonPropertyName("checkpoint_every")] public int CheckpointEvery { get; init; }
    [JsonPropertyName("seed")] public long Seed { get; init; }

    // --- text models --------------------------------------------------------------------------------------------
    [JsonPropertyName("seq_len")] public int SequenceLength { get; init; } = 64;
    /// <summary>Optional tokenizer file for the `text` dataset; byte-level when absent.</summary>
    [JsonPropertyName("tokenizer")] public string? Tokenizer { get; init; }
    /// <summary>Labelled text: at most this many training examples (a fixed random subset); 0 means all.</summary>
    [JsonPropertyName("max_train_samples")] public int MaxTrainSamples { get; init; }
    /// <summary>Labelled text: at most this many validation and test examples each (fixed random subsets); 0 means all.</summary>
    [JsonPropertyName("max_eval_samples")] public int MaxEvalSamples { get; init; }
    /// <summary>An encoder's head input: `cls` or `mean`; null means the model's own (<see cref="Models.HuggingFace.EncoderConfig.Pooling"/>). Left out of the JSON when null, so configs written before it keep their bytes.</summary>
    [JsonPropertyName("pooling"), JsonConverter(typeof(ConfigEnumConverter<EncoderPooling>)), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public EncoderPooling? Pooling { get; init; }

    // --- instruction tuning (TRL SFTTrainer) ---------------------------------------------------------------------
    // Each is left out of the JSON at its default, so configs written before them keep their bytes (trial ids, checkpoint hashes).
    /// <summary>Prompt/completion rows: the loss on the completion only (TRL's completion_only_loss); the default.</summary>
    [JsonIgnore] public bool CompletionOnlyLoss { get; init; } = true;
    [JsonPropertyName("completion_only_loss"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public bool? CompletionOnlyLossWritten { get => CompletionOnlyLoss ? null : false; init => CompletionOnlyLoss = value ?? true; }
    /// <summary>Conversations: the loss on assistant turns only (TRL's assistant_only_loss); the default.</summary>
    [JsonIgnore] public bool AssistantOnlyLoss { get; init; } = true;
    [JsonPropertyName("assistant_only_loss"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public bool? AssistantOnlyLossWritten { get => AssistantOnlyLoss ? null : false; init => AssistantOnlyLoss = value ?? true; }
    /// <summary>Pack short examples into full seq_len windows, positions restarting per example (TRL's packing).</summary>
    [JsonPropertyName("pack_sequences"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool PackSequences { get; init; }
    /// <summary>A chat-template file used instead of the model folder's; null: the folder's tokenizer_config.json chat_template.</summary>
    [JsonPropertyName("chat_template"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ChatTemplate { get; init; }

    // --- LoRA variants (DoRA, LoRA+); left out of the JSON at their defaults, so configs written before them keep their bytes -----
    /// <summary>DoRA (PEFT's use_dora): a trained magnitude per output row times the direction of W + s·B·A.</summary>
    [JsonPropertyName("use_dora"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool UseDora { get; init; }
    /// <summary>LoRA+ (PEFT's loraplus_lr_ratio): B matrices train at this many times lr; 0 means off (one learning rate).</summary>
    [JsonPropertyName("loraplus_lr_ratio"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public double LoraPlusLrRatio { get; init; }

    // --- memory (base precision) ----------------------------------------------------------------------------------
    /// <summary>The frozen base's weights' type: `fp32`, `bf16` or `fp16` (<see cref="Configuration.BaseDtype"/>); null means fp32. Left out of the JSON when null, so configs written before it keep their bytes.</summary>
    [JsonPropertyName("base_dtype"), JsonConverter(typeof(ConfigEnumConverter<BaseDtype>)), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public BaseDtype? BaseDtype { get; init; }

    // --- memory (quantised base) ----------------------------------------------------------------------------------
    /// <summary>The frozen base's linear weights quantised: `none`, `nf4` or `int8` (<see cref="QuantizeMode"/>); null means none. Left out of the JSON when null.</summary>
    [JsonPropertyName("quantize"), JsonConverter(typeof(ConfigEnumConverter<QuantizeMode>)), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public QuantizeMode? Quantize { get; init; }

    // --- memory (gradient checkpointing) --------------------------------------------------------------------------
    /// <summary>Recompute each decoder layer's activations in the backward instead of keeping them. Left out of the JSON when false.</summary>
    [JsonPropertyName("gradient_checkpointing"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool GradientCheckpointing { get; init; }

    // --- memory (NF4 double quantisation) -------------------------------------------------------------------------
    /// <summary>With quantize nf4, the block scales quantised to 8 bits in blocks of 256 (QLoRA's double quantisation). Left out of the JSON when false.</summary>
    [JsonPropertyName("double_quant"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool DoubleQuant { get; init; }

    // --- PEFT modules_to_save (decoders) ------------------------------------------------------------------------
    /// <summary>Modules of a decoder that train in full beside the adapter and are saved in it (PEFT's modules_to_save), such as the final norm; null: none. Left out of the JSON when null.</summary>
    [JsonPropertyName("modules_to_save"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? ModulesToSave { get; init; }
}
