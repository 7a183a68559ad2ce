using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Memory.Quantization;

/// <summary>
/// int8 absmax per output row (LLM.int8()'s weight format without its outlier decomposition): each row of [out, in]
/// scaled by 127 / its absolute maximum and rounded to the nearest integer (halves to even, torch.round).
/// </summary>
public static class Int8Rowwise
{
    /// <summary>Quantises a [out, in] weight; the caller owns the result.</summary>
    public static Int8Tensor Quantize(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.dim() != 2) throw new ArgumentException($"int8 row-wise quantisation takes a [out, in] matrix, got [{string.Join(", ", weight.shape)}].", nameof(weight));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var w = weight.detach().to(ScalarType.Float32);
        var absmax = w.abs().amax([1]);
        var divisor = where(absmax.gt(0), absmax, ones_like(absmax)).unsqueeze(1);
        var codes = w.div(divisor).mul_(127).round_().clamp_(-127, 127).to(ScalarType.Int8);
        return new Int8Tensor(codes.MoveToOuterDisposeScope(), absmax.MoveToOuterDisposeScope());
    }
}

/// <summary>An int8 weight: codes [out, in] (int8) and each row's absmax [out] (fp32).</summary>
public sealed class Int8Tensor(Tensor codes, Tensor absmax) : IQuantizedWeight
{
    public Tensor Codes { get; } = codes;
    public Tensor Absmax { get; } = absmax;
    public long[] Shape => Codes.shape;
    public long Bytes => Codes.numel() + Absmax.numel() * 4;

    public Tensor Dequantize(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var weight = Codes.to(ScalarType.Float32).mul_(Absmax.div(127).unsqueeze(1));
        return (dtype == ScalarType.Float32 ? weight : weight.to(dtype)).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Codes.Dispose();
        Absmax.Dispose();
    }
}
