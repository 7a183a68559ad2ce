using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Safetensors;

/// <summary>One tensor's entry in a safetensors header; offsets are relative to the start of the data section.</summary>
public sealed record SafetensorsTensorInfo(string Name, string DType, ScalarType ScalarType, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}

/// <summary>A parsed and validated safetensors header. <see cref="DataStart"/> is the file offset of the data section.</summary>
public sealed record SafetensorsHeader(
    IReadOnlyList<SafetensorsTensorInfo> Tensors,
    IReadOnlyDictionary<string, string> Metadata,
    long DataStart);

/// <summary>
/// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length, a
/// UTF-8 JSON header, then the tensors' bytes back to back. Files are written the way the reference (Rust) writer
/// writes them, so the bytes are deterministic: tensors laid out by descending dtype then by name, header entries in
/// layout order after <c>__metadata__</c>, compact JSON, header padded with spaces to a multiple of 8 bytes.
/// </summary>
public static class SafetensorsFile
{
    public const string MetadataKey = "__metadata__";
    /// <summary>The reference readers refuse headers larger than this.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        // Each tensor's bytes go from its own (contiguous, CPU) storage to the file: no managed copy of the file's data,
        // which for a checkpoint (weights and optimiser state) would add its whole size to the trial's peak memory.
        using var scope = torch.NewDisposeScope();
        var layout = new List<(string Name, ScalarType Type, long[] Shape, Tensor Data)>(tensors.Count);
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name) || name == MetadataKey)
            {
                throw new ArgumentException($"'{name}' cannot name a tensor in a safetensors file.", nameof(tensors));
            }
            layout.Add((name, tensor.dtype, tensor.shape, tensor.detach().cpu().contiguous()));
        }
        layout.Sort((a, b) =>
        {
            var byType = SafetensorsDType.WriterRank(b.Type).CompareTo(SafetensorsDType.WriterRank(a.Type));
            return byType != 0 ? byType : string.CompareOrdinal(a.Name, b.Name);
        });

        var json = new StringBuilder("{");
        if (metadata is { Count: > 0 })
        {
            AppendString(json, MetadataKey);
            json.Append(":{");
            var first = true;
            foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (!first) json.Append(',');
                first = false;
                AppendString(json, key);
                json.Append(':');
                AppendString(json, value);
            }
            json.Append('}');
            if (layout.Count > 0) json.Append(',');
        }
        long offset = 0;
        for (var i = 0; i < layout.Count; i++)
        {
            var (name, type, shape, data) = layout[i];
            if (i > 0) json.Append(',');
            AppendString(json, name);
            json.Append(":{\"dtype\":");
            AppendString(json, SafetensorsDType.NameOf(type));
            json.Append(",\"shape\":[");
            json.AppendJoin(',', shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
            json.Append("],\"data_offsets\":[");
            json.Append(offset.ToString(CultureInfo.InvariantCulture)).Append(',');
            offset += data.NumberOfElements * data.ElementSize;
            json.Append(offset.ToString(CultureInfo.InvariantCulture)).Append("]}");
        }
        json.Append('}');

        var header = Encoding.UTF8.GetBytes(json.ToString());
        var padding = (8 - header.Length % 8) % 8;
        var headerLength = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(headerLength, (ulong)(header.Length + padding));

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(headerLength);
                stream.Write(header);
                for (var i = 0; i < padding; i++) stream.WriteByte((byte)' ');
                foreach (var entry in layout) stream.Write(entry.Data.bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Every tensor (on the CPU, owned by the caller) and the <c>__metadata__</c> map (empty when absent).</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) ReadAll(string path)
    {
        using var stream = OpenRead(path);
        var header = ReadHeader(stream, path);
        var tensors = new Dictionary<string, Tensor>(header.Tensors.Count, StringComparer.Ordinal);
        try
        {
            foreach (var info in header.Tensors) tensors.Add(info.Name, ReadTensor(stream, header, info));
        }
        catch
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
            throw;
        }
        return (tensors, new Dictionary<string, string>(header.Metadata, StringComparer.Ordinal));
    }

    public static SafetensorsHeader ReadHeader(string path)
    {
        using var stream = OpenRead(path);
        return ReadHeader(stream, path);
    }

    /// <summary>
    /// One tensor of an open file (on the CPU, in the file's dtype, owned by the caller), read straight into the
    /// tensor's own memory: loading tensor by tensor holds no other copy of it, managed or native.
    /// </summary>
    public static Tensor ReadTensor(Stream stream, SafetensorsHeader header, SafetensorsTensorInfo info)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(info);
        var tensor = torch.empty(info.Shape, dtype: info.ScalarType);
        try
        {
            if (info.ByteLength > 0)
            {
                stream.Position = header.DataStart + info.Begin;
                stream.ReadExactly(tensor.bytes);
            }
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        return tensor;
    }

    /// <summary>Opens a safetensors file for reading tensor by tensor (<see cref="ReadHeader(FileStream, string)"/>, <see cref="ReadTensor"/>).</summary>
    public static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);

    /// <summary>The validated header of an open file (read from its start); <paramref name="path"/> names it in errors.</summary>
    public static SafetensorsHeader ReadHeader(FileStream stream, string path)
    {
        var fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw new SafetensorsFormatException(path, $"the file is {fileLength} bytes, shorter than the 8-byte header length (truncated).");
        }
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.Position = 0;
        stream.ReadExactly(lengthBytes);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes)
        {
            throw new SafetensorsFormatException(path, $"the header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit.");
        }
        if ((long)headerLength > fileLength - 8)
        {
            throw new SafetensorsFormatException(path, $"the header length {headerLength} runs past the end of the {fileLength}-byte file (truncated).");
        }
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        var dataStart = 8 + (long)headerLength;
        var dataLength = fileLength - dataStart;

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes);
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(path, $"the header is not valid JSON ({e.Message}).");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new SafetensorsFormatException(path, "the header is not a JSON object.");
            }
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new List<SafetensorsTensorInfo>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    throw new SafetensorsFormatException(path, $"the header names '{property.Name}' twice.");
                }
                if (property.Name == MetadataKey)
                {
                    ReadMetadata(property.Value, metadata, path);
                }
                else
                {
                    tensors.Add(ReadTensorInfo(property.Name, property.Value, path));
                }
            }

            long expectedBegin = 0;
            foreach (var info in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
            {
                if (info.Begin != expectedBegin)
                {
                    throw new SafetensorsFormatException(path, info.Begin < expectedBegin
                        ? $"tensor '{info.Name}' at data_offsets [{info.Begin},{info.End}] overlaps the tensor before it, which ends at {expectedBegin}."
                        : $"tensor '{info.Name}' starts at {info.Begin} but the tensor before it ends at {expectedBegin}: data is not contiguous.");
                }
                if (info.End > dataLength)
                {
                    throw new SafetensorsFormatException(path, $"tensor '{info.Name}' ends at {info.End}, past the {dataLength}-byte data section (truncated or out of bounds).");
                }
                expectedBegin = info.End;
            }
            if (expectedBegin != dataLength)
            {
                throw new SafetensorsFormatException(path, $"the tensors cover {expectedBegin} bytes but the data section is {dataLength} bytes.");
            }
            return new SafetensorsHeader(tensors, metadata, dataStart);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SafetensorsFormatException(path, $"'{MetadataKey}' must be an object of strings.");
        }
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new SafetensorsFormatException(path, $"'{MetadataKey}' entry '{entry.Name}' is not a string.");
            }
            metadata[entry.Name] = entry.Value.GetString()!;
        }
    }

    private static SafetensorsTensorInfo ReadTensorInfo(string name, JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array)
        {
            throw new SafetensorsFormatException(path, $"tensor '{name}' needs a string 'dtype', an array 'shape' and an array 'data_offsets'.");
        }
        var dtype = dtypeElement.GetString()!;
        if (!SafetensorsDType.TryFromName(dtype, out var scalarType))
        {
            throw new SafetensorsFormatException(path, $"tensor '{name}' has unknown dtype '{dtype}' (supported: {string.Join(", ", SafetensorsDType.Names)}).");
        }
        var shape = shapeElement.EnumerateArray().Select(d => NonNegative(d, name, "shape", path)).ToArray();
        var offsets = offsetsElement.EnumerateArray().Select(d => NonNegative(d, name, "data_offsets", path)).ToArray();
        if (offsets.Length != 2 || offsets[1] < offsets[0])
        {
            throw new SafetensorsFormatException(path, $"tensor '{name}' has data_offsets [{string.Join(",", offsets)}]; expected [begin, end] with begin <= end.");
        }
        long elements = 1;
        try
        {
            foreach (var dim in shape) elements = checked(elements * dim);
            var expected = checked(elements * SafetensorsDType.SizeOf(scalarType));
            if (expected != offsets[1] - offsets[0])
            {
                throw new SafetensorsFormatException(path, $"tensor '{name}' is {dtype} [{string.Join(",", shape)}] = {expected} bytes, but its data_offsets span {offsets[1] - offsets[0]} bytes.");
            }
        }
        catch (OverflowException)
        {
            throw new SafetensorsFormatException(path, $"tensor '{name}' has a shape [{string.Join(",", shape)}] too large to address.");
        }
        return new SafetensorsTensorInfo(name, dtype, scalarType, shape, offsets[0], offsets[1]);
    }

    private static long NonNegative(JsonElement element, string tensor, string field, string path)
    {
        if (element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out var value) && value >= 0) return value;
        throw new SafetensorsFormatException(path, $"tensor '{tensor}' has '{element}' in '{field}'; expected a non-negative integer.");
    }

    // serde_json's escaping: quote, backslash and control characters only; everything else is raw UTF-8.
    private static void AppendString(StringBuilder json, string value)
    {
        json.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\n': json.Append("\\n"); break;
                case '\r': json.Append("\\r"); break;
                case '\t': json.Append("\\t"); break;
                case '\b': json.Append("\\b"); break;
                case '\f': json.Append("\\f"); break;
                case < ' ': json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: json.Append(c); break;
            }
        }
        json.Append('"');
    }
}
