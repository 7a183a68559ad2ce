using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Memory.Quantization;

/// <summary>
/// bitsandbytes' 8-bit blockwise quantisation with its signed dynamic map (functional.py create_dynamic_map and the
/// default backend's quantize_blockwise), which QLoRA's double quantisation applies to NF4's block scales: values in
/// blocks of <see cref="BlockSize"/>, each block divided by its absolute maximum (a short last block by its own),
/// clamped to [-1, 1] and replaced by the index of the nearest of the 256 map values (ties to the lower); de-quantising
/// multiplies each map value by its block's absmax.
/// </summary>
public static class BlockwiseDynamic8
{
    /// <summary>QLoRA quantises the NF4 block scales in blocks of 256.</summary>
    public const int BlockSize = 256;

    private static readonly Lazy<float[]> Map = new(CreateDynamicMap);

    /// <summary>The 256 sorted values of create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8).</summary>
    public static IReadOnlyList<float> DynamicMap => Map.Value;

    /// <summary>
    /// create_dynamic_map: for exponent i in 0..6, the midpoints of linspace(0.1, 1, 2^i + 1) (float32 boundaries,
    /// correctly rounded) times 10^(i - 6), with their negatives; then 0 and 1; sorted.
    /// </summary>
    private static float[] CreateDynamicMap()
    {
        const int maxExponentBits = 7, nonSignBits = 7;
        var data = new List<double>();
        using (var scope = NewDisposeScope())
        {
            for (var i = 0; i < maxExponentBits; i++)
            {
                var items = (int)Math.Pow(2, i + nonSignBits - maxExponentBits) + 1;
                // Rounded from float64: torch's float32 linspace differs in the last bit between versions (1.13 and 2.x
                // disagree on 42 of the 256 values), so the map is pinned to the correctly rounded boundaries.
                var boundaries = linspace(0.1, 1, items, dtype: ScalarType.Float64).to(ScalarType.Float32);
                var means = (boundaries[TensorIndex.Slice(null, -1)] + boundaries[TensorIndex.Slice(1, null)]) / 2.0;
                var scale = Math.Pow(10, -(maxExponentBits - 1) + i);
                data.AddRange(means.mul(scale).data<float>().ToArray().Select(v => (double)v));
                data.AddRange(means.mul(-scale).data<float>().ToArray().Select(v => (double)v));
            }
        }
        data.Add(0);
        data.Add(1.0);
        if (data.Count != 256) throw new InvalidOperationException($"the dynamic map has {data.Count} values, not 256");
        data.Sort();
        return data.Select(v => (float)v).ToArray();
    }

    /// <summary>Codes (uint8, one per value) and the absmax of each block (fp32) of a 1-d fp32 tensor; the caller owns both.</summary>
    public static (Tensor Codes, Tensor Absmax) Quantize(Tensor values)
    {
        ArgumentNullException.ThrowIfNull(values);
        using var scope = NewDisposeScope();
        var flat = values.to(ScalarType.Float32).reshape(-1);
        var n = flat.numel();
        var rem = n % BlockSize;
        var full = n - rem;
        var blocks = flat.narrow(0, 0, full).reshape(-1, BlockSize);
        var absmax = blocks.abs().amax([1]);
        var scaled = (blocks * absmax.clamp_min(1e-38).reciprocal().view(-1, 1)).clamp(-1, 1).reshape(-1);
        if (rem > 0)
        {
            var tail = flat.narrow(0, full, rem);
            var am = tail.abs().max().clamp_min(1e-38);
            absmax = cat([absmax, am.unsqueeze(0)]);
            scaled = cat([scaled, (tail / am).clamp(-1, 1)]);
        }
        var map = tensor(Map.Value, device: values.device);
        var bounds = (map[TensorIndex.Slice(null, -1)] + map[TensorIndex.Slice(1, null)]) / 2;
        var codes = bucketize(scaled, bounds, right: false).to(ScalarType.Byte);
        return (codes.MoveToOuterDisposeScope(), absmax.MoveToOuterDisposeScope());
    }

    /// <summary>The fp32 values <paramref name="codes"/> and <paramref name="absmax"/> stand for; the caller owns them.</summary>
    public static Tensor Dequantize(Tensor codes, Tensor absmax)
    {
        ArgumentNullException.ThrowIfNull(codes);
        ArgumentNullException.ThrowIfNull(absmax);
        using var scope = NewDisposeScope();
        var n = codes.numel();
        var values = tensor(Map.Value, device: codes.device).index_select(0, codes.to(ScalarType.Int64));
        var rem = n % BlockSize;
        var full = n - rem;
        var head = values.narrow(0, 0, full).reshape(-1, BlockSize).mul(absmax.narrow(0, 0, full / BlockSize).view(-1, 1)).reshape(-1);
        var result = rem == 0 ? head : cat([head, values.narrow(0, full, rem).mul(absmax.narrow(0, full / BlockSize, 1))]);
        return result.MoveToOuterDisposeScope();
    }
}
