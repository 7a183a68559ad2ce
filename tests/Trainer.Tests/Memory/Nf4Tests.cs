using System.Diagnostics;
using Orchestrator.Trainer.Memory.Quantization;
using Orchestrator.Trainer.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Memory;

public sealed class Nf4Tests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public void The_round_trip_of_a_weight_matrix_equals_an_independent_torch_reference_bit_for_bit()
    {
        const int rows = 100, cols = 70; // 7,000 values: the last of 110 blocks is padded
        using var scope = NewDisposeScope();
        var weight = randn([rows, cols], generator: new Generator(7)).mul_(0.02f);
        weight[3].zero_(); // a whole zero row spans a block that divides by nothing
        weight[5, 9] = tensor(0.5f); // an outlier sets its block's absmax
        var input = _workspace.Sub("weight.bin");
        File.WriteAllBytes(input, weight.bytes.ToArray());

        var reference = RunReference(input, _workspace.Sub("reference.bin"), rows, cols);
        using var quantized = Nf4.Quantize(weight);
        var roundTrip = Nf4.Dequantize(quantized);

        var blocks = (rows * cols + Nf4.BlockSize - 1) / Nf4.BlockSize;
        var expectedValues = reference.AsSpan(0, rows * cols * 4).ToArray();
        var expectedAbsmax = reference.AsSpan(rows * cols * 4, blocks * 4).ToArray();
        var expectedPacked = reference.AsSpan(rows * cols * 4 + blocks * 4).ToArray();
        Assert.Equal(new long[] { rows, cols }, roundTrip.shape);
        Assert.Equal(expectedAbsmax, quantized.Absmax!.bytes.ToArray());
        Assert.Equal(expectedPacked, quantized.Packed.bytes.ToArray());
        Assert.Equal(expectedValues, roundTrip.bytes.ToArray());
    }

    [Fact]
    public void Each_of_the_16_levels_comes_back_exactly_and_two_codes_share_a_byte()
    {
        using var scope = NewDisposeScope();
        var levels = tensor(Nf4.Levels).repeat(8).reshape(2, 64).mul_(3f); // absmax 3 in both blocks

        using var quantized = Nf4.Quantize(levels);

        Assert.Equal(64, quantized.Packed.numel());
        Assert.Equal(0x01, quantized.Packed[0].item<byte>()); // codes 0 then 1: the first in the high nibble
        Assert.Equal(new[] { 3f, 3f }, quantized.Absmax!.data<float>().ToArray());
        Assert.Equal(levels.data<float>().ToArray(), Nf4.Dequantize(quantized).data<float>().ToArray());
        Assert.Equal(64 + 2 * 4, quantized.Bytes); // 4.5 bits per value
    }

    [Fact]
    public void Double_quantised_block_scales_round_trip_as_an_independent_torch_reference_of_bitsandbytes_does_bit_for_bit()
    {
        const int rows = 300, cols = 70; // 21,000 values: 329 blocks of 64 (the last padded), so 256 scales and a short block of 73
        using var scope = NewDisposeScope();
        var weight = randn([rows, cols], generator: new Generator(11)).mul_(0.02f);
        weight[7, 3] = tensor(0.9f); // an outlier block: its scale sits far from the mean
        var input = _workspace.Sub("weight.bin");
        File.WriteAllBytes(input, weight.bytes.ToArray());

        var reference = RunReference(input, _workspace.Sub("reference.bin"), rows, cols, "nf4_double_quant_reference.py");
        using var plain = Nf4.Quantize(weight);
        using var quantized = Nf4.Quantize(weight, doubleQuant: true);
        var roundTrip = Nf4.Dequantize(quantized);

        const int blocks = 329, scaleBlocks = 2;
        var at = 0;
        byte[] Next(int bytes) { var part = reference.AsSpan(at, bytes).ToArray(); at += bytes; return part; }
        var expectedValues = Next(rows * cols * 4);
        var expectedAbsmax = Next(blocks * 4);
        var expectedCodes = Next(blocks);
        var expectedScaleAbsmax = Next(scaleBlocks * 4);
        var expectedOffset = Next(4);
        Assert.Equal(reference.Length, at);
        Assert.Null(quantized.Absmax);
        Assert.Equal(plain.Packed.bytes.ToArray(), quantized.Packed.bytes.ToArray()); // the NF4 codes do not change
        Assert.Equal(expectedOffset, quantized.Scales!.Offset.reshape(1).bytes.ToArray());
        Assert.Equal(expectedCodes, quantized.Scales.Codes.bytes.ToArray());
        Assert.Equal(expectedScaleAbsmax, quantized.Scales.Absmax.bytes.ToArray());
        Assert.Equal(expectedAbsmax, quantized.Scales.Dequantize().bytes.ToArray());
        Assert.Equal(expectedValues, roundTrip.bytes.ToArray());
        // 8 bits per block of 64 plus 32 per 256 blocks and the offset, instead of 32 per block.
        Assert.Equal(plain.Packed.numel() + blocks + scaleBlocks * 4 + 4, quantized.Bytes);
    }

    [Fact]
    public void The_dynamic_map_is_bitsandbytes_signed_8_bit_map_sorted_from_minus_one_to_one()
    {
        var map = BlockwiseDynamic8.DynamicMap;
        Assert.Equal(256, map.Count);
        Assert.Equal(map.Order(), map);
        Assert.Equal(1f, map[^1]);
        Assert.Contains(0f, map);
        Assert.Equal(-0.99296874f, map[0], 6); // the last exponent's outermost midpoint: -(0.9859375 + 1) / 2
    }

    private static byte[] RunReference(string input, string output, int rows, int cols, string scriptName = "nf4_reference.py")
    {
        var script = Path.Combine(AppContext.BaseDirectory, "References", scriptName);
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { script, input, output, rows.ToString(), cols.ToString() }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{scriptName} failed: {errors.Result}");
        return File.ReadAllBytes(output);
    }
}
