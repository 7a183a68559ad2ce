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
/// fp32 whatever the base type (a half base's activations are half precision, but norms and softmax run in fp32, the
/// adapters' products in theirs, and the heap keeps freed blocks under 1 MiB for reuse: see <c>NativeHeap</c>), plus the
/// logits; with <c>gradient_checkpointing</c>, each layer's input in the base type plus <see cref="CheckpointedLayers"/>
/// times one layer's (the recomputed layer and its backward's temporaries);</item>
/// <item>runtime: what the process needs besides, fitted to <c>bench memory</c> runs here (a 1.1M- and a 168M-parameter
/// llama, LoRA r=16; batch 1 × 64 in fp32 and bf16, with and without NF4, and 4 × 512 with and without checkpointing;
/// every row within 6.2 %): 48 MiB (the first use of libtorch's kernels and thread pools, the tokenizer and data),
/// 10 bytes per trainable parameter (gradient temporaries of the backward), and for a quantised base
/// <see cref="DequantizeWorkspaceWeights"/> times the largest linear's weight in the base dtype (the forward's and the
/// backward's de-quantised weights and their products' temporaries) plus one chunk of de-quantisation temporaries.</item>
/// </list>
/// </summary>
public static class DecoderPeakMemory
{
    public const long RuntimeFixedBytes = 48L << 20;
    public const double RuntimeBytesPerTrainableParameter = 10;
    public const double ActivationShare = 0.65;
    public const double CheckpointedLayers = 1.5;
    public const int DequantizeWorkspaceWeights = 4;
    public const int Nf4BlockSize = 64;

    /// <summary>
    /// Values an NF4 weight is de-quantised in at a time (the trainer's chunk): besides the result, their fp32 values and
    /// indices (1 MiB + 512 KiB). Measured on the 168M llama, bf16 + NF4, 20 steps of 1 × 64 tokens: at 1 Mi values (6 MiB
    /// of temporaries, mapped and page-faulted again for each of a step's 168 de-quantisations) it trained at 0.74–0.86
    /// steps/s and peaked at 297–300 MiB; at 256 Ki, 1.05–1.11 steps/s and 296–297 MiB. At 128 Ki (both temporaries in
    /// the heap) bf16 was as fast, but fp32 + NF4 peaked 40 MiB higher (429–432 against 387–390 MiB, `bench memory`):
    /// its fp32 activations, saved between the chunks' heap blocks, fragment the heap.
    /// </summary>
    public const int DequantizeChunkValues = 1 << 18;

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
        const double share = ActivationShare;
        if (config.GradientCheckpointing)
        {
            var oneLayer = share * MemoryEstimator.TransformerActivationBytes(batch, tokens, decoder.Hidden, 1, decoder.Heads, MemoryEstimator.Fp32);
            activations = decoder.Layers * batch * tokens * decoder.Hidden * baseBytes + (long)Math.Round(CheckpointedLayers * oneLayer) + logits;
        }
        else
        {
            activations = (long)Math.Round(share * MemoryEstimator.TransformerActivationBytes(batch, tokens, decoder.Hidden, decoder.Layers, decoder.Heads, MemoryEstimator.Fp32)) + logits;
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
