using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;
using Orchestrator.Trials.Models.Decoders;

namespace Orchestrator.Trainer.Estimation;

/// <summary>
/// The memory a trial needs as its config trains it, counted on the model itself (a built-in is built on the CPU and
/// counted after LoRA injection; an encoder from its config.json). The arithmetic is <see cref="MemoryEstimator"/>'s;
/// the scheduler reaches this through <see cref="ITrialMemoryEstimator"/>, so grains never load TorchSharp.
/// </summary>
public sealed class TrialMemoryEstimator : ITrialMemoryEstimator
{
    public static readonly TrialMemoryEstimator Instance = new();

    MemoryEstimate ITrialMemoryEstimator.Estimate(TrainingConfig config) => Estimate(config);

    /// <summary>
    /// A built-in model as <paramref name="config"/> trains it: the model is built on the CPU and counted after LoRA
    /// injection (adapter `lora`), with every weight trainable (`full`) or none (`base`).
    /// </summary>
    public static MemoryEstimate Estimate(TrainingConfig config, string dtype = MemoryEstimator.Fp32)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (EncoderConfig.Of(config.Model, config.Pooling) is { } encoder) return EstimateEncoder(config, encoder, dtype);
        if (DecoderArchitecture.Of(config.Model) is { } decoder) return EstimateDecoder(config, decoder, dtype);
        using var model = ModelCatalog.Create(config.Model, config.Seed);
        long total, trainable;
        if (config.Adapter == AdapterKind.Lora)
        {
            var injection = LoraInjector.Inject(model, config, config.Seed);
            (total, trainable) = (injection.TotalParameters, injection.TrainableParameters);
        }
        else
        {
            total = ParameterCount.Total(model);
            trainable = config.Adapter == AdapterKind.Full ? total : 0;
        }
        return MemoryEstimator.Estimate(total, trainable, dtype, ActivationBytes(config, dtype));
    }

    /// <summary>
    /// A Hugging Face encoder folder's sequence classifier, from its config.json alone: LoRA as
    /// <see cref="ParameterReport.ForEncoder"/> counts it, `full` trains everything, `base` trains the head.
    /// </summary>
    private static MemoryEstimate EstimateEncoder(TrainingConfig config, EncoderConfig encoder, string dtype)
    {
        var labels = encoder.NumLabels ?? 2;
        var total = encoder.ParameterCount(labels);
        long trainable;
        switch (config.Adapter)
        {
            case AdapterKind.Lora:
                var report = ParameterReport.ForEncoder(config.Model, encoder, config.Rank, config.TargetModules, config.Bias, config.UseDora);
                (total, trainable) = (report.TotalParameters, report.TrainableParameters);
                break;
            case AdapterKind.Full:
                trainable = total;
                break;
            default:
                trainable = encoder.HeadParameterCount(labels);
                break;
        }
        var activations = MemoryEstimator.TransformerActivationBytes(config.BatchSize, config.SequenceLength, encoder.HiddenSize, encoder.NumHiddenLayers,
            encoder.NumAttentionHeads, dtype);
        return MemoryEstimator.Estimate(total, trainable, dtype, activations);
    }

    /// <summary>
    /// A Hugging Face decoder folder from its config.json alone: LoRA as <see cref="ParameterReport.ForDecoder"/> counts
    /// it, `full` trains everything, `base` nothing. As trained here (dtype fp32, the default: what the scheduler and
    /// pack: auto ask) it is <see cref="DecoderPeakMemory"/>'s CPU peak with base_dtype, quantize and
    /// gradient_checkpointing; for another training dtype asked of `estimate`, the plain sum of weights, gradients,
    /// optimiser and activations of its layers plus the logits over its vocabulary.
    /// </summary>
    private static MemoryEstimate EstimateDecoder(TrainingConfig config, DecoderArchitecture decoder, string dtype)
    {
        var total = decoder.ParameterCount;
        long trainable = 0;
        if (config.Adapter == AdapterKind.Lora)
        {
            var report = ParameterReport.ForDecoder(config.Model, decoder, config.Rank, config.TargetModules, config.Bias, config.ModulesToSave);
            (total, trainable) = (report.TotalParameters, report.TrainableParameters);
        }
        else if (config.Adapter == AdapterKind.Full) trainable = total;
        // The CPU peak with the memory options (base_dtype, quantize, gradient_checkpointing), as bench memory measures it.
        if (dtype == MemoryEstimator.Fp32) return DecoderPeakMemory.Estimate(config, decoder, total, trainable);
        var activations = MemoryEstimator.TransformerActivationBytes(config.BatchSize, config.SequenceLength, decoder.Hidden, decoder.Layers, decoder.Heads, dtype)
            + (long)config.BatchSize * config.SequenceLength * decoder.VocabSize * MemoryEstimator.DTypeBytes(dtype);
        return MemoryEstimator.Estimate(total, trainable, dtype, activations);
    }

    private static long ActivationBytes(TrainingConfig config, string dtype)
    {
        if (config.Model == BuiltInModels.TransformerBlock)
            return MemoryEstimator.TransformerActivationBytes(config.BatchSize, TransformerBlockModel.Tokens, TransformerBlockModel.ModelWidth, 1,
                TransformerBlockModel.Heads, dtype);
        if (config.Model == BuiltInModels.Mlp)
        {
            // Input, then each layer's output before and after ReLU plus the dropout mask.
            const long valuesPerSample = MlpModel.InputSize + 3L * (2 * MlpModel.HiddenSize) + MlpModel.Classes;
            return config.BatchSize * valuesPerSample * MemoryEstimator.DTypeBytes(dtype);
        }
        if (config.Model == BuiltInModels.Llama)
        {
            // The built-in tiny llama (byte-level vocabulary): its layers, plus the logits over the vocabulary.
            var llama = LlamaConfig.Tiny();
            return MemoryEstimator.TransformerActivationBytes(config.BatchSize, config.SequenceLength, llama.HiddenSize, llama.NumHiddenLayers,
                    llama.NumAttentionHeads, dtype)
                + (long)config.BatchSize * config.SequenceLength * llama.VocabSize * MemoryEstimator.DTypeBytes(dtype);
        }
        if (LinearModelName.Parse(config.Model) is var (inFeatures, outFeatures))
            return config.BatchSize * (inFeatures + outFeatures) * MemoryEstimator.DTypeBytes(dtype);
        throw new UnknownModelException(config.Model, $"No activation estimate for model '{config.Model}'.");
    }
}
