using Orchestrator.Trials.Estimation;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Memory.Quantization;

/// <summary>
/// 4-bit NormalFloat (QLoRA, Dettmers et al. 2023) as bitsandbytes stores it: the weight flattened into blocks of 64
/// values, each block divided by its absolute maximum (kept in fp32), each value replaced by the index of the nearest of
/// the 16 NF4 levels (a value exactly between two levels takes the lower, as bitsandbytes' decision tree does), and two
/// indices packed per byte, the first in the high nibble. De-quantising looks each index up and multiplies by its
/// block's absmax.
/// </summary>
public static class Nf4
{
    public const int BlockSize = 64;

    /// <summary>bitsandbytes' NF4 levels (functional.py get_4bit_type("nf4")), quantiles of N(0, 1) scaled to [-1, 1] with an exact 0.</summary>
    public static readonly float[] Levels =
    [
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    ];

    /// <summary>
    /// Quantises <paramref name="weight"/> (any float type, any shape); the caller owns the result. With
    /// <paramref name="doubleQuant"/> (QLoRA's double quantisation, bitsandbytes' compress_statistics) the codes are the
    /// same, and the fp32 block absmax is kept as its mean (the offset) plus 8-bit codes of absmax − offset in blocks of
    /// 256 (<see cref="BlockwiseDynamic8"/>): 4.127 bits per value instead of 4.5.
    /// </summary>
    public static Nf4Tensor Quantize(Tensor weight, bool doubleQuant = false)
    {
        ArgumentNullException.ThrowIfNull(weight);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var count = weight.numel();
        var flat = weight.detach().to(ScalarType.Float32).reshape(-1);
        var padded = count % BlockSize == 0 ? flat : nn.functional.pad(flat, [0, BlockSize - count % BlockSize]);
        var blocks = padded.view(-1, BlockSize);
        var absmax = blocks.abs().amax([1]);
        // An all-zero block divides by 1: its values stay 0, the level at index 7.
        var divisor = where(absmax.gt(0), absmax, ones_like(absmax)).unsqueeze(1);
        var normalized = blocks.div(divisor);
        var codes = bucketize(normalized, Midpoints(weight.device), right: false).reshape(-1);
        var pairs = codes.view(-1, 2);
        if (pairs.shape[0] * 2 != codes.shape[0]) throw new InvalidOperationException("A block of 64 holds whole pairs.");
        var packed = pairs.select(1, 0).mul(16).add_(pairs.select(1, 1)).to(ScalarType.Byte);
        if (!doubleQuant) return new Nf4Tensor(packed.MoveToOuterDisposeScope(), absmax.MoveToOuterDisposeScope(), weight.shape);
        var offset = absmax.mean();
        var (scaleCodes, scaleAbsmax) = BlockwiseDynamic8.Quantize(absmax - offset);
        return new Nf4Tensor(packed.MoveToOuterDisposeScope(), null, weight.shape,
            new Nf4Scales(scaleCodes.MoveToOuterDisposeScope(), scaleAbsmax.MoveToOuterDisposeScope(), offset.MoveToOuterDisposeScope()));
    }

    /// <summary>Blocks de-quantised at a time (256 Ki values, as the estimate counts them), so a de-quantisation's temporaries stay at 1.5 MiB whatever the weight's size.</summary>
    public const int DequantizeChunkBlocks = DecoderPeakMemory.DequantizeChunkValues / BlockSize;

    /// <summary>
    /// The fp32 (or <paramref name="dtype"/>) weight an <see cref="Nf4Tensor"/> stands for; the caller owns it. Filled
    /// chunk by chunk (<see cref="DequantizeChunkBlocks"/>): besides the result, only one chunk's indices and fp32
    /// values exist at a time (1.5 MiB), so de-quantising an 11 MiB weight to bf16 no longer needs 17 MiB of temporaries
    /// beside it.
    /// Each value is its level times its block's absmax in fp32, then converted, as bitsandbytes computes it.
    /// </summary>
    public static Tensor Dequantize(Nf4Tensor quantized, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(quantized);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var table = PairTable(quantized.Packed.device);
        var absmax = quantized.Absmax ?? quantized.Scales!.Dequantize();
        var blocks = absmax.shape[0];
        var output = empty([blocks, BlockSize], dtype: dtype, device: quantized.Packed.device);
        var packedBlocks = quantized.Packed.view(blocks, BlockSize / 2);
        for (long first = 0; first < blocks; first += DequantizeChunkBlocks)
        {
            using var chunkScope = NewDisposeScope();
            var length = Math.Min(DequantizeChunkBlocks, blocks - first);
            // Each byte looked up at once as its pair of levels (high nibble first).
            var pairs = table.index_select(0, packedBlocks.narrow(0, first, length).reshape(-1).to(ScalarType.Int32));
            var values = pairs.view(-1, BlockSize).mul_(absmax.narrow(0, first, length).unsqueeze(1));
            output.narrow(0, first, length).copy_(values);
        }
        var count = quantized.Shape.Aggregate(1L, (a, b) => a * b);
        var weight = output.view(-1).narrow(0, 0, count).view(quantized.Shape);
        return weight.MoveToOuterDisposeScope();
    }

    /// <summary>[256, 2]: a packed byte's two levels, the high nibble's first.</summary>
    private static Tensor PairTable(Device device)
    {
        var table = new float[256 * 2];
        for (var b = 0; b < 256; b++)
        {
            table[2 * b] = Levels[b >> 4];
            table[2 * b + 1] = Levels[b & 15];
        }
        return tensor(table, [256, 2], device: device);
    }

    /// <summary>Between consecutive levels: a normalised value above a midpoint takes the upper level.</summary>
    private static Tensor Midpoints(Device device)
    {
        var midpoints = new float[Levels.Length - 1];
        for (var i = 0; i < midpoints.Length; i++) midpoints[i] = (Levels[i] + Levels[i + 1]) / 2;
        return tensor(midpoints, device: device);
    }
}

/// <summary>
/// Double-quantised NF4 block scales: absmax = <see cref="Codes"/> (uint8, bitsandbytes' dynamic map) × the absmax of
/// their block of 256 (<see cref="Absmax"/>, fp32) + <see cref="Offset"/> (fp32, the mean of the original scales).
/// </summary>
public sealed class Nf4Scales(Tensor codes, Tensor absmax, Tensor offset) : IDisposable
{
    public Tensor Codes { get; } = codes;
    public Tensor Absmax { get; } = absmax;
    public Tensor Offset { get; } = offset;

    /// <summary>A byte per NF4 block, four per block of 256 of those, four for the offset.</summary>
    public long Bytes => Codes.numel() + Absmax.numel() * 4 + 4;

    /// <summary>The fp32 block absmax these stand for (bitsandbytes: dequantize_blockwise, then += offset); the caller owns it.</summary>
    public Tensor Dequantize()
    {
        using var scope = NewDisposeScope();
        return BlockwiseDynamic8.Dequantize(Codes, Absmax).add_(Offset).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Codes.Dispose();
        Absmax.Dispose();
        Offset.Dispose();
    }
}

/// <summary>
/// An NF4 weight: packed codes [numel/2 rounded up to whole blocks] (uint8), and the absmax per block of 64: fp32
/// [blocks] (<see cref="Absmax"/>), or double-quantised (<see cref="Scales"/>); and the weight's shape.
/// </summary>
public sealed class Nf4Tensor(Tensor packed, Tensor? absmax, long[] shape, Nf4Scales? scales = null) : IQuantizedWeight
{
    public Tensor Dequantize(ScalarType dtype) => Nf4.Dequantize(this, dtype);

    public Tensor Packed { get; } = packed;
    public Tensor? Absmax { get; } = absmax;
    public Nf4Scales? Scales { get; } = scales;
    public long[] Shape { get; } = shape;

    /// <summary>Bytes held: half a byte per value plus four per block of 64 (4.5 bits per value), or the double-quantised scales'.</summary>
    public long Bytes => Packed.numel() + (Absmax?.numel() * 4 ?? Scales!.Bytes);

    public void Dispose()
    {
        Packed.Dispose();
        Absmax?.Dispose();
        Scales?.Dispose();
    }
}
