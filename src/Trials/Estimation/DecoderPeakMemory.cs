using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Models.Decoders;

namespace Orchestrator.Trials.Estimation;

/// <summary>
/// The peak resident memory a trial on a Hugging Face decoder folder adds to a CPU process (what
/// <c>peak_memory_bytes</c> measures: the process peak over a baseline before loading), with the memory options:
/// <list type="bullet">
/// <item>weights: each decoder linear as <c>quantize</c> holds it (NF4: half a byte per value plus a 4-byte absmax per
/// block of 64; int8: a byte per value plus a 4-byte scale per output row) or in <c>base_dtype</c>; embeddings, norms
/// and <c>lm_head</c> in <c>base_dtype</c>; adapters in fp32 (loading is tensor by tensor, so it never holds more);</item>
/// <item>gradients and AdamW's two moments: fp32 per trainable parameter;</item>
/// <item>activations: <see cref="ActivationShare"/> times <see cref="MemoryEstimator.TransformerActivationBytes"/> at
/// fp32 whatever the base type (norms, softmax and the adapters' inputs stay fp32 on the CPU, and the heap keeps freed
/// activation blocks for reuse: see <c>NativeHeap</c>), plus the logits; with <c>gradient_checkpointing</c>, each
/// layer's input plus <see cref="CheckpointedLayers"/> times one layer's (the recomputed layer and its backward's
/// temporaries);</item>
/// <item>runtime: what the process needs besides, fitted to <c>bench memory</c> runs here (a 1.1M- and a 168M-parameter
/// llama, LoRA r=16; batch 1 × 64, and 4 × 512 with and without checkpointing; every row within 7 %): 54 MiB (the
/// first use of libtorch's kernels and thread pools), 10 bytes per trainable parameter (the optimiser's temporaries and
/// the adapter's checkpoint copies), and for a quantised base <see cref="DequantizeWorkspaceWeights"/> times the
/// largest linear's weight in the base dtype (de-quantised weights of the forward and of the backward's thread, kept as
/// heap fragments) plus one chunk of de-quantisation temporaries.</item>
/// </list>
/// </summary>
public static class DecoderPeakMemory
{
    public const long RuntimeFixedBytes = 54L << 20;
    public const double RuntimeBytesPerTrainableParameter = 10;
    public const double ActivationShare = 1.15;
    public const double CheckpointedLayers = 3.5;
    public const int DequantizeWorkspaceWeights = 12;
    public const int Nf4BlockSize = 64;

    /// <summary>Values an NF4 weight is de-quantised in at a time (the trainer's chunk): besides the result, their fp32 values and indices.</summary>
    public const int DequantizeChunkValues = 1 << 20;

    /// <summary>What one de-quantisation chunk's temporaries take, counted as its fp32 values (its int32 indices, one per byte, add half as much again; the fit absorbs them).</summary>
    public const long DequantizeChunkBytes = DequantizeChunkValues * 4L;

    /// <param name="totalParameters">Every parameter with the adapters (LoRA as counted for the config).</param>
    /// <param name="trainableParameters">Those that train.</param>
    public static MemoryEstimate Estimate(TrainingConfig config, DecoderArchitecture decoder, long totalParameters, long trainableParameters)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(decoder);
        var baseBytes = config.BaseDtype.IsHalf() ? 2 : 4;
        var quantized = config.Quantize.IsQuantized();
        long weights = 0;
        foreach (var linear in decoder.Linears)
        {
            var values = linear.In * linear.Out;
            weights += config.Quantize switch
            {
                QuantizeMode.Nf4 => Nf4Bytes(values, config.DoubleQuant),
                QuantizeMode.Int8 => values + linear.Out * 4,
                _ => values * baseBytes,
            };
            if (linear.Bias) weights += linear.Out * baseBytes;
        }
        weights += decoder.OtherParameters * baseBytes;
        var baseParameters = decoder.ParameterCount;
        var adapters = Math.Max(0, totalParameters - baseParameters);
        weights += adapters * 4;

        long batch = config.BatchSize, tokens = config.SequenceLength;
        var logits = batch * tokens * decoder.VocabSize * 4L;
        long activations;
        if (config.GradientCheckpointing)
        {
            var oneLayer = ActivationShare * MemoryEstimator.TransformerActivationBytes(batch, tokens, decoder.Hidden, 1, decoder.Heads, MemoryEstimator.Fp32);
            activations = decoder.Layers * batch * tokens * decoder.Hidden * 4L + (long)Math.Round(CheckpointedLayers * oneLayer) + logits;
        }
        else
        {
            activations = (long)Math.Round(ActivationShare * MemoryEstimator.TransformerActivationBytes(batch, tokens, decoder.Hidden, decoder.Layers, decoder.Heads, MemoryEstimator.Fp32)) + logits;
        }

        var largestLinear = decoder.Linears.Count == 0 ? 0 : decoder.Linears.Max(l => l.In * l.Out) * (long)baseBytes;
        var runtime = RuntimeFixedBytes
            + (long)(RuntimeBytesPerTrainableParameter * trainableParameters)
            + (quantized ? DequantizeWorkspaceWeights * largestLinear + DequantizeChunkBytes : 0);
        return new MemoryEstimate(
            WeightsBytes: weights,
            GradientBytes: trainableParameters * 4,
            OptimizerBytes: trainableParameters * MemoryEstimator.OptimizerStatesPerParameter * MemoryEstimator.OptimizerStateBytes,
            ActivationBytes: activations) { RuntimeBytes = runtime };
    }

    /// <summary>
    /// NF4 as stored: two codes per byte and a 4-byte absmax per block of 64, the last block padded; double-quantised,
    /// a byte per block's scale, a 4-byte absmax per 256 of those and a 4-byte offset.
    /// </summary>
    public static long Nf4Bytes(long values, bool doubleQuant = false)
    {
        var blocks = (values + Nf4BlockSize - 1) / Nf4BlockSize;
        var scales = doubleQuant ? blocks + (blocks + ScaleBlockSize - 1) / ScaleBlockSize * 4 + 4 : blocks * 4;
        return blocks * Nf4BlockSize / 2 + scales;
    }

    /// <summary>Double quantisation's blocks of NF4 scales.</summary>
    public const int ScaleBlockSize = 256;
}
