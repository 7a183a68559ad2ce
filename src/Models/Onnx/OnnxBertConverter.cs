using System.Text.RegularExpressions;

namespace Orchestrator.Models.Onnx;

/// <summary>
/// Turns the initializers of a PyTorch-exported BERT ONNX graph into Hugging Face <c>BertModel</c> state-dict entries.
/// The exporter keeps the module names of embeddings, LayerNorms and biases, but gives the Linear weights it
/// pre-transposed for MatMul anonymous names (<c>onnx::MatMul_1234</c>). Each of those is named by following its MatMul
/// to the Add that adds a named bias (<c>....query.bias</c> names <c>....query.weight</c>), and transposed back from
/// ONNX's [in, out] to Linear's [out, in].
/// </summary>
public static partial class OnnxBertConverter
{
    [GeneratedRegex(@"^(embeddings|encoder|pooler)\.[A-Za-z0-9_.]+\.(weight|bias)$")]
    private static partial Regex BertParameterName();

    /// <summary>The weights under Hugging Face names, each [out, in] for Linear layers; sorted by name.</summary>
    public static SortedDictionary<string, OnnxWeight> Convert(ModelProto model)
    {
        var graph = model.Graph;
        var floats = OnnxInitializers.Floats(graph);
        var result = new SortedDictionary<string, OnnxWeight>(StringComparer.Ordinal);
        foreach (var (name, weight) in floats)
            if (BertParameterName().IsMatch(name)) result.Add(name, weight);

        var consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
            foreach (var input in node.Input)
            {
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = [];
                list.Add(node);
            }

        foreach (var matMul in graph.Node.Where(n => n.OpType == "MatMul"))
        {
            var weightInput = matMul.Input.FirstOrDefault(i => floats.ContainsKey(i) && !result.ContainsKey(i));
            if (weightInput is null) continue;
            var weight = floats[weightInput];
            if (weight.Shape.Length != 2)
                throw new InvalidDataException($"MatMul '{matMul.Name}' multiplies by '{weightInput}' of rank {weight.Shape.Length}; expected a matrix");
            var bias = (consumers.GetValueOrDefault(matMul.Output[0]) ?? [])
                .Where(n => n.OpType == "Add")
                .SelectMany(n => n.Input)
                .FirstOrDefault(i => i.EndsWith(".bias", StringComparison.Ordinal) && result.ContainsKey(i))
                ?? throw new InvalidDataException($"MatMul '{matMul.Name}' ({weightInput} [{string.Join(",", weight.Shape)}]) feeds no Add of a named bias; cannot name its weight");
            var name = bias[..^".bias".Length] + ".weight";
            if (result[bias].Shape is not [var outFeatures] || outFeatures != weight.Shape[1])
                throw new InvalidDataException($"'{bias}' has shape [{string.Join(",", result[bias].Shape)}] but '{weightInput}' has {weight.Shape[1]} outputs");
            if (!result.TryAdd(name, Transpose(name, weight)))
                throw new InvalidDataException($"two MatMul weights map to '{name}'");
        }

        return result;
    }

    private static OnnxWeight Transpose(string name, OnnxWeight weight)
    {
        var (rows, columns) = ((int)weight.Shape[0], (int)weight.Shape[1]);
        var transposed = new float[weight.Values.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++)
                transposed[c * rows + r] = weight.Values[r * columns + c];
        return new OnnxWeight(name, [columns, rows], transposed);
    }
}
