using System.Runtime.InteropServices;

namespace Orchestrator.Models.Onnx;

/// <summary>A float32 weight read out of an ONNX graph: row-major values and the shape ONNX gives them.</summary>
public sealed record OnnxWeight(string Name, long[] Shape, float[] Values);

/// <summary>Reads an ONNX model (the generated <see cref="ModelProto"/>) and its float32 initializers.</summary>
public static class OnnxInitializers
{
    private const int Float = 1; // TensorProto.DataType.FLOAT

    public static ModelProto Parse(byte[] onnx)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        if (model.Graph is null || model.Graph.Initializer.Count == 0)
            throw new InvalidDataException("the ONNX model has no graph initializers (weights)");
        return model;
    }

    /// <summary>Every float32 initializer by name; integer initializers (shapes, indices, constants) are left out.</summary>
    public static Dictionary<string, OnnxWeight> Floats(GraphProto graph)
    {
        var weights = new Dictionary<string, OnnxWeight>(StringComparer.Ordinal);
        foreach (var tensor in graph.Initializer)
        {
            if (tensor.DataType != Float) continue;
            if (tensor.DataLocation != 0 || tensor.ExternalData.Count > 0)
                throw new InvalidDataException($"initializer '{tensor.Name}' keeps its data in an external file, which is not supported");
            var shape = tensor.Dims.ToArray();
            var count = shape.Aggregate(1L, (a, d) => checked(a * d));
            float[] values;
            if (!tensor.RawData.IsEmpty)
            {
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian; this machine is not");
                if (tensor.RawData.Length != count * sizeof(float))
                    throw new InvalidDataException($"initializer '{tensor.Name}' [{string.Join(",", shape)}] has {tensor.RawData.Length} raw bytes, expected {count * sizeof(float)}");
                values = MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray();
            }
            else
            {
                if (tensor.FloatData.Count != count)
                    throw new InvalidDataException($"initializer '{tensor.Name}' [{string.Join(",", shape)}] has {tensor.FloatData.Count} values, expected {count}");
                values = tensor.FloatData.ToArray();
            }
            weights.Add(tensor.Name, new OnnxWeight(tensor.Name, shape, values));
        }
        return weights;
    }
}
