using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Models.Named;

namespace Orchestrator.Trials.Estimation;

/// <summary>
/// Training memory, by part. Optimiser state is AdamW's two fp32 moments per trainable parameter.
/// <see cref="RuntimeBytes"/> is what a CPU process needs beyond those (<see cref="DecoderPeakMemory"/>; 0 elsewhere).
/// </summary>
public sealed record MemoryEstimate(long WeightsBytes, long GradientBytes, long OptimizerBytes, long ActivationBytes)
{
    public long RuntimeBytes { get; init; }
    public long TotalBytes => WeightsBytes + GradientBytes + OptimizerBytes + ActivationBytes + RuntimeBytes;
    public double TotalGiB => TotalBytes / (double)(1L << 30);
}

/// <summary>Shape of a Llama-family model, enough to count its projections and activations.</summary>
public sealed record LlamaShape(string Name, double Billions, int Hidden, int Layers, int Heads, int KeyValueHeads, int Intermediate)
{
    public int HeadWidth => Hidden / Heads;
    public int KeyValueWidth => KeyValueHeads * HeadWidth;

    /// <summary>(in, out) of a decoder layer's projection.</summary>
    public (long In, long Out) Projection(string name) => name switch
    {
        "q_proj" or "o_proj" => (Hidden, Hidden),
        "k_proj" or "v_proj" => (Hidden, KeyValueWidth),
        "gate_proj" or "up_proj" => (Hidden, Intermediate),
        "down_proj" => (Intermediate, Hidden),
        _ => throw new ArgumentException(
            $"Unknown Llama projection '{name}'; expected q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj or down_proj.", nameof(name)),
    };
}

/// <summary>`estimate --params 7B --rank 16`: the shape used, LoRA's trainable count, and memory for LoRA and for full fine-tuning.</summary>
public sealed record ParameterSizeEstimate(LlamaShape Shape, long TotalParameters, long LoraParameters, MemoryEstimate Lora, MemoryEstimate FullFineTuning)
{
    public double Savings => 1 - (double)Lora.TotalBytes / FullFineTuning.TotalBytes;
}

/// <summary>
/// Training memory estimates: weights (every parameter at the training dtype), gradients (trainable parameters at
/// the training dtype), AdamW state (two fp32 values per trainable parameter) and activations (a heuristic, below).
/// </summary>
public static class MemoryEstimator
{
    public const string Fp32 = "fp32";
    public const string Bf16 = "bf16";
    public const string Fp16 = "fp16";
    public static readonly IReadOnlyList<string> DTypes = [Fp32, Bf16, Fp16];

    /// <summary>AdamW keeps the first and second moments in fp32 whatever the weights' dtype.</summary>
    public const int OptimizerStatesPerParameter = 2;
    public const int OptimizerStateBytes = 4;

    /// <summary>LoRA targets when none are given: q and v, as in the LoRA paper and PEFT's Llama default.</summary>
    public static readonly IReadOnlyList<string> DefaultLlamaTargets = ["q_proj", "v_proj"];

    /// <summary>Published Llama shapes (Llama 3.2 1B/3B, Llama 2 7B/13B/70B); a size in between takes the nearest.</summary>
    public static readonly IReadOnlyList<LlamaShape> KnownShapes =
    [
        new("llama-3.2-1b", 1, Hidden: 2048, Layers: 16, Heads: 32, KeyValueHeads: 8, Intermediate: 8192),
        new("llama-3.2-3b", 3, Hidden: 3072, Layers: 28, Heads: 24, KeyValueHeads: 8, Intermediate: 8192),
        new("llama-2-7b", 7, Hidden: 4096, Layers: 32, Heads: 32, KeyValueHeads: 32, Intermediate: 11008),
        new("llama-2-13b", 13, Hidden: 5120, Layers: 40, Heads: 40, KeyValueHeads: 40, Intermediate: 13824),
        new("llama-2-70b", 70, Hidden: 8192, Layers: 80, Heads: 64, KeyValueHeads: 8, Intermediate: 28672),
    ];

    public static int DTypeBytes(string dtype) => dtype?.ToLowerInvariant() switch
    {
        Fp32 or "float32" => 4,
        Bf16 or Fp16 or "bfloat16" or "float16" => 2,
        _ => throw new ArgumentException($"Unknown dtype '{dtype}'; expected one of {string.Join(", ", DTypes)}.", nameof(dtype)),
    };

    public static MemoryEstimate Estimate(long totalParams, long trainableParams, string dtype, long activationBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalParams);
        ArgumentOutOfRangeException.ThrowIfNegative(activationBytes);
        if (trainableParams < 0 || trainableParams > totalParams)
            throw new ArgumentOutOfRangeException(nameof(trainableParams), trainableParams, "Trainable parameters must be between 0 and the total.");
        var bytes = DTypeBytes(dtype);
        return new MemoryEstimate(
            WeightsBytes: totalParams * bytes,
            GradientBytes: trainableParams * bytes,
            OptimizerBytes: trainableParams * OptimizerStatesPerParameter * OptimizerStateBytes,
            ActivationBytes: activationBytes);
    }

    /// <summary>
    /// A Llama-like model of <paramref name="billions"/> parameters with LoRA of rank <paramref name="rank"/> on
    /// <paramref name="targets"/> (q and v by default) of every layer. The shape is the nearest known one; the weights
    /// count the size as given.
    /// </summary>
    public static ParameterSizeEstimate EstimateForParameters(
        double billions, int rank, string dtype = Bf16, int batchSize = 1, int sequenceLength = 512, IReadOnlyList<string>? targets = null)
    {
        if (!(billions > 0)) throw new ArgumentOutOfRangeException(nameof(billions), billions, "The model size must be positive.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        var shape = NearestShape(billions);
        var total = (long)Math.Round(billions * 1e9);
        var lora = LoraParameters(shape, rank, targets ?? DefaultLlamaTargets);
        var activations = TransformerActivationBytes(batchSize, sequenceLength, shape.Hidden, shape.Layers, shape.Heads, dtype);
        return new ParameterSizeEstimate(shape, total, lora,
            Lora: Estimate(total + lora, lora, dtype, activations),
            FullFineTuning: Estimate(total, total, dtype, activations));
    }

    /// <summary>Reads a model size as the CLI takes it: `7B`, `1.5b`, `700M`, `7e9` or a bare number of billions (`13`).</summary>
    public static double ParseBillions(string size)
    {
        ArgumentNullException.ThrowIfNull(size);
        var text = size.Trim();
        var (digits, factor) = char.ToUpperInvariant(text.Length > 0 ? text[^1] : ' ') switch
        {
            'B' => (text[..^1], 1.0),
            'M' => (text[..^1], 1e-3),
            'K' => (text[..^1], 1e-6),
            _ => (text, double.NaN),
        };
        if (!double.TryParse(digits, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) || !(value > 0))
            throw new FormatException($"Cannot read a model size from '{size}'; write it like 7B, 1.5B or 700M.");
        // A bare number is billions unless it is plainly a raw count (7e9).
        if (double.IsNaN(factor)) factor = value >= 1e6 ? 1e-9 : 1.0;
        return value * factor;
    }

    public static LlamaShape NearestShape(double billions) =>
        KnownShapes.MinBy(s => Math.Abs(Math.Log(billions / s.Billions)))!;

    /// <summary>r·(in + out) for each targeted projection of every layer.</summary>
    public static long LoraParameters(LlamaShape shape, int rank, IReadOnlyList<string> targets) =>
        shape.Layers * targets.Distinct().Sum(t => { var (inF, outF) = shape.Projection(t); return rank * (inF + outF); });

    /// <summary>
    /// Activations kept for the backward pass of a transformer: per layer s·b·h·(34 + 5·a·s/h) bytes at 16 bits
    /// (Korthikanti et al., 2022, "Reducing Activation Recomputation in Large Transformer Models", no recomputation),
    /// doubled for fp32. The 5·a·s/h term (attention scores) is an upper bound: fused attention does not store them.
    /// LoRA does not shrink this: gradients still flow through the frozen layers to reach earlier adapters.
    /// </summary>
    public static long TransformerActivationBytes(long batch, long sequence, long hidden, long layers, long heads, string dtype)
    {
        var scale = DTypeBytes(dtype) / 2.0;
        var perLayer = sequence * batch * hidden * (34.0 + 5.0 * heads * sequence / hidden);
        return (long)Math.Round(layers * perLayer * scale);
    }
}
