using System.Text;
using System.Text.Json;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Trials.Packing;

/// <summary>
/// Which trials may train together in one pack: the rule, in one place. Members share everything the frozen pass
/// reads (model, base weights and their precision, dataset and its sampling, batch size, sequence length) and the adapted modules; they may
/// differ in rank, alpha, dropout, init, seed, learning rate, schedule, weight decay, clipping, steps and evaluation.
/// Full fine-tuning and base trials never pack (nothing is shared once every weight trains), nor do adapters that
/// train a shared weight (bias `all` / `lora_only`), nor models that are not built in (a pretrained encoder's
/// classifier head trains in full per trial), nor trials that accumulate gradients (gradient_accumulation_steps &gt; 1).
/// The LoRA variants train alone too: DoRA (its row norms and magnitudes are per member, and the packed layers compute
/// plain LoRA), PiSSA and OLoRA (they rewrite the base weight the members share) and LoRA+ (the packed AdamW has one
/// learning rate per member, not one per matrix). kaiming and gaussian inits pack.
/// </summary>
public static class PackCompatibility
{
    /// <summary>Why <paramref name="config"/> cannot pack at all, or null when it can.</summary>
    public static string? WhyNotPackable(TrainingConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Adapter != AdapterKind.Lora) return $"adapter '{config.Adapter.ConfigName()}' trains no LoRA (only LoRA trials pack)";
        if (config.Bias != BiasMode.None) return $"bias '{config.Bias.ConfigName()}' trains a weight of the shared base";
        if (config.GradientCheckpointing) return "gradient_checkpointing recomputes layers in the backward (the packed loop does not checkpoint)";
        if (config.GradientAccumulationSteps > 1)
            return $"gradient_accumulation_steps {config.GradientAccumulationSteps} takes several micro-batches per optimiser step (a pack steps every member once per micro-batch)";
        if (config.ModulesToSave is { Count: > 0 }) return "modules_to_save trains modules of the base, which the members share";
        if (config.UseDora) return "use_dora trains a magnitude per output row whose norms are per member (packed layers compute plain LoRA)";
        if (config.Init.ChangesBase) return $"init '{config.Init}' moves part of the base weight into the adapter, and the base is shared by the pack";
        if (config.LoraPlusLrRatio > 0) return $"loraplus_lr_ratio {config.LoraPlusLrRatio.ToString(System.Globalization.CultureInfo.InvariantCulture)} steps lora_B at its own learning rate (a pack steps a member's A and B at one)";
        if (!Models.BuiltInModels.Names.Contains(config.Model))
            return $"model '{config.Model}' is not built in (a pretrained encoder trains its classifier head per trial, modules_to_save, which members cannot share)";
        return null;
    }

    /// <summary>
    /// Trials with equal keys can share a pack; null when the trial cannot pack. Without pretrained or checkpointed
    /// weights the base is drawn from the trial's seed, so the seed is then part of the key.
    /// </summary>
    public static string? Key(TrainingConfig config, BaseModelSpec baseSpec)
    {
        ArgumentNullException.ThrowIfNull(baseSpec);
        if (WhyNotPackable(config) is not null) return null;
        var shared = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["base"] = baseSpec,
            ["base_seed"] = baseSpec.Pretrain is null && baseSpec.Checkpoint is null ? config.Seed : null,
            ["batch_size"] = config.BatchSize,
            ["dataset"] = config.Dataset,
            ["layers_to_transform"] = config.LayersToTransform,
            ["max_eval_samples"] = config.MaxEvalSamples,
            ["max_train_samples"] = config.MaxTrainSamples,
            ["model"] = config.Model,
            ["seq_len"] = config.SequenceLength,
            ["target_modules"] = config.TargetModules,
            ["target_modules_regex"] = config.TargetModulesRegex,
            ["tokenizer"] = config.Tokenizer,
        };
        // Members share the frozen base, so they share its precision; absent for fp32, so fp32 keys keep their value.
        if (config.BaseDtype is { } dtype && config.BaseDtype.IsHalf()) shared["base_dtype"] = dtype.ConfigName();
        if (config.Quantize is { } quantize && config.Quantize.IsQuantized()) shared["quantize"] = quantize.ConfigName();
        if (config.DoubleQuant) shared["double_quant"] = "true";
        return FileHashes.Sha256(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(shared)))[..16];
    }
}
