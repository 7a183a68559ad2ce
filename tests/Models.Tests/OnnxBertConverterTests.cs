using Google.Protobuf;
using Orchestrator.Models.Onnx;

namespace Orchestrator.Models.Tests;

/// <summary>The naming rule on a two-node graph small enough to check by hand.</summary>
public sealed class OnnxBertConverterTests
{
    private const string Bias = "encoder.layer.0.intermediate.dense.bias";

    private static TensorProto Floats(string name, long[] dims, params float[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = 1, RawData = ByteString.CopyFrom(values.SelectMany(BitConverter.GetBytes).ToArray()) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private static NodeProto Node(string op, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{output}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        return node;
    }

    private static ModelProto Graph(bool withAdd)
    {
        var graph = new GraphProto();
        // ONNX MatMul weight [in=2, out=3]: rows are inputs.
        graph.Initializer.Add(Floats("onnx::MatMul_7", [2, 3], 1, 2, 3, 4, 5, 6));
        graph.Initializer.Add(Floats(Bias, [3], 0.1f, 0.2f, 0.3f));
        graph.Node.Add(Node("MatMul", ["hidden", "onnx::MatMul_7"], "product"));
        if (withAdd) graph.Node.Add(Node("Add", [Bias, "product"], "sum"));
        // Round-trip through bytes: the converter reads what the generated parser reads.
        return OnnxInitializers.Parse(new ModelProto { IrVersion = 7, Graph = graph }.ToByteArray());
    }

    [Fact]
    public void An_anonymous_MatMul_weight_takes_the_name_of_the_bias_added_to_its_product_and_is_transposed()
    {
        var weights = OnnxBertConverter.Convert(Graph(withAdd: true));

        Assert.Equal([Bias, "encoder.layer.0.intermediate.dense.weight"], weights.Keys);
        var weight = weights["encoder.layer.0.intermediate.dense.weight"];
        Assert.Equal([3L, 2L], weight.Shape);
        Assert.Equal([1f, 4f, 2f, 5f, 3f, 6f], weight.Values);
    }

    [Fact]
    public void A_MatMul_weight_without_a_named_bias_is_an_error_not_a_silently_dropped_tensor()
    {
        var error = Assert.Throws<InvalidDataException>(() => OnnxBertConverter.Convert(Graph(withAdd: false)));
        Assert.Contains("onnx::MatMul_7", error.Message);
    }
}
