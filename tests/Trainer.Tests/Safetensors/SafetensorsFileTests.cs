using System.Buffers.Binary;
using System.Text;
using Orchestrator.Trainer.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Safetensors;

public sealed class SafetensorsFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("safetensors-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathFor(string name) => Path.Combine(_directory, name);

    [Fact]
    public void One_F32_tensor_of_1_and_2_is_written_as_the_hand_computed_bytes()
    {
        var path = PathFor("golden.safetensors");
        using var x = torch.tensor(new float[] { 1, 2 });
        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["x"] = x });

        // 54 bytes of JSON, padded with two spaces to 56; then 1.0f and 2.0f little-endian.
        var expected = new List<byte> { 56, 0, 0, 0, 0, 0, 0, 0 };
        expected.AddRange(Encoding.ASCII.GetBytes("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  "));
        expected.AddRange([0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40]);
        Assert.Equal(expected.ToArray(), File.ReadAllBytes(path));
    }

    [Fact]
    public void Metadata_comes_first_in_the_header_and_reads_back()
    {
        var path = PathFor("meta.safetensors");
        using var x = torch.tensor(new float[] { 1, 2 });
        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["x"] = x }, new Dictionary<string, string> { ["format"] = "pt" });

        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, headerLength % 8);
        Assert.StartsWith("{\"__metadata__\":{\"format\":\"pt\"},\"x\":", Encoding.UTF8.GetString(bytes, 8, headerLength));
        var (tensors, metadata) = SafetensorsFile.ReadAll(path);
        using var _ = tensors["x"];
        Assert.Equal("pt", metadata["format"]);
    }

    public static TheoryData<ScalarType> EveryDType() =>
    [
        ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Float64,
        ScalarType.Int64, ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.Byte, ScalarType.Bool,
    ];

    [Theory]
    [MemberData(nameof(EveryDType))]
    public void Every_dtype_round_trips_bit_for_bit(ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator(42);
        var tensors = new Dictionary<string, Tensor>
        {
            ["matrix"] = Sample(dtype, [3, 5], generator),
            ["scalar"] = Sample(dtype, [], generator),
            ["empty"] = Sample(dtype, [0, 4], generator),
            ["a.b.c"] = Sample(dtype, [2, 1, 3], generator),
        };
        var path = PathFor($"roundtrip-{dtype}.safetensors");
        SafetensorsFile.Write(path, tensors);

        var (loaded, _) = SafetensorsFile.ReadAll(path);
        foreach (var t in loaded.Values) t.MoveToOuterDisposeScope();
        Assert.Equal(tensors.Keys.Order(), loaded.Keys.Order());
        foreach (var (name, original) in tensors)
        {
            var back = loaded[name];
            Assert.Equal(dtype, back.dtype);
            Assert.Equal(original.shape, back.shape);
            Assert.Equal(original.contiguous().bytes.ToArray(), back.bytes.ToArray());
            back.Dispose();
        }
    }

    [Fact]
    public void Writing_the_same_tensors_twice_gives_identical_bytes_laid_out_by_dtype_then_name()
    {
        using var scope = torch.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["z_flag"] = torch.ones(3, dtype: ScalarType.Bool),
            ["b_weight"] = torch.ones(2, 2),
            ["a_weight"] = torch.zeros(2),
            ["ids"] = torch.arange(4, dtype: ScalarType.Int64),
        };
        SafetensorsFile.Write(PathFor("one.safetensors"), tensors);
        SafetensorsFile.Write(PathFor("two.safetensors"), tensors.Reverse().ToDictionary());
        Assert.Equal(File.ReadAllBytes(PathFor("one.safetensors")), File.ReadAllBytes(PathFor("two.safetensors")));

        var header = SafetensorsFile.ReadHeader(PathFor("one.safetensors"));
        Assert.Equal(["ids", "a_weight", "b_weight", "z_flag"], header.Tensors.OrderBy(t => t.Begin).Select(t => t.Name));
        Assert.Equal(0, header.DataStart % 8);
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
    }

    [Fact]
    public void A_file_shorter_than_the_length_prefix_is_rejected_as_truncated()
    {
        var path = PathFor("short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        AssertRejected(path, "truncated");
    }

    [Fact]
    public void A_header_length_past_the_end_of_the_file_is_rejected()
    {
        var path = Raw("long-header.safetensors", "{}", [], headerLength: 1000);
        AssertRejected(path, "runs past the end");
    }

    [Fact]
    public void A_header_length_over_100_MB_is_rejected()
    {
        var path = Raw("huge-header.safetensors", "{}", [], headerLength: 200_000_000);
        AssertRejected(path, "limit");
    }

    [Fact]
    public void A_header_that_is_not_JSON_is_rejected()
    {
        var path = Raw("bad-json.safetensors", "{\"x\":{\"dtype\":", []);
        AssertRejected(path, "not valid JSON");
    }

    [Fact]
    public void Overlapping_tensors_are_rejected()
    {
        var path = Raw("overlap.safetensors",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
            new byte[12]);
        AssertRejected(path, "overlaps");
    }

    [Fact]
    public void A_gap_between_tensors_is_rejected()
    {
        var path = Raw("gap.safetensors",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
            new byte[20]);
        AssertRejected(path, "not contiguous");
    }

    [Fact]
    public void A_tensor_ending_past_the_data_is_rejected()
    {
        var path = Raw("out-of-bounds.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[4]);
        AssertRejected(path, "out of bounds");
    }

    [Fact]
    public void Bytes_after_the_last_tensor_are_rejected()
    {
        var path = Raw("trailing.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[12]);
        AssertRejected(path, "data section is 12 bytes");
    }

    [Fact]
    public void A_shape_that_disagrees_with_the_byte_length_is_rejected()
    {
        var path = Raw("shape.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]);
        AssertRejected(path, "12 bytes");
    }

    [Fact]
    public void An_unknown_dtype_is_rejected()
    {
        var path = Raw("dtype.safetensors", "{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,1]}}", new byte[1]);
        AssertRejected(path, "unknown dtype 'Q4'");
    }

    private static void AssertRejected(string path, string problem)
    {
        var error = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.ReadAll(path));
        Assert.Contains(path, error.Message);
        Assert.Contains(problem, error.Message);
    }

    private string Raw(string name, string header, byte[] data, ulong? headerLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        var path = PathFor(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static Tensor Sample(ScalarType dtype, long[] shape, torch.Generator generator) => dtype switch
    {
        ScalarType.Bool => torch.randint(0, 2, shape, generator: generator).to(ScalarType.Bool),
        ScalarType.Byte => torch.randint(0, 256, shape, generator: generator).to(dtype),
        ScalarType.Int8 or ScalarType.Int16 or ScalarType.Int32 or ScalarType.Int64 =>
            torch.randint(-100, 100, shape, generator: generator).to(dtype),
        _ => torch.randn(shape, generator: generator).to(dtype),
    };
}
