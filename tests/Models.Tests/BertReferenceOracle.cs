using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Orchestrator.Models.Tests;

/// <summary>
/// TEST ORACLE, not production code: Hugging Face <c>BertModel</c>'s forward (eval mode, absolute positions, exact GELU)
/// written out over a state dict, to check that converted weights compute what the original ONNX graph computes.
/// The production encoder lives in src/Trainer; this one stays small enough to read against modeling_bert.py.
/// </summary>
internal static class BertReferenceOracle
{
    /// <summary><c>last_hidden_state</c> [batch, tokens, hidden] for int64 <paramref name="inputIds"/> and 0/1 <paramref name="attentionMask"/>.</summary>
    public static Tensor LastHiddenState(IReadOnlyDictionary<string, Tensor> w, Tensor inputIds, Tensor attentionMask, int heads, double eps)
    {
        var (batch, length) = (inputIds.shape[0], inputIds.shape[1]);
        var hidden = w["embeddings.word_embeddings.weight"].shape[1];
        var headSize = hidden / heads;
        Tensor Norm(Tensor x, string prefix) => F.layer_norm(x, [hidden], w[prefix + ".weight"], w[prefix + ".bias"], eps);
        Tensor Linear(Tensor x, string prefix) => F.linear(x, w[prefix + ".weight"], w[prefix + ".bias"]);
        Tensor Heads(Tensor x) => x.view(batch, length, heads, headSize).transpose(1, 2);

        var positions = arange(length, dtype: ScalarType.Int64).unsqueeze(0).expand(batch, length);
        var x = w["embeddings.word_embeddings.weight"][inputIds]
                + w["embeddings.position_embeddings.weight"][positions]
                + w["embeddings.token_type_embeddings.weight"][zeros_like(inputIds)];
        x = Norm(x, "embeddings.LayerNorm");

        // Masked keys get the most negative float, as BertModel's extended attention mask does.
        var additiveMask = (1 - attentionMask.to(ScalarType.Float32)).mul(float.MinValue).view(batch, 1, 1, length);
        var layers = w.Keys.Count(k => k.EndsWith(".attention.self.query.weight", StringComparison.Ordinal));
        for (var i = 0; i < layers; i++)
        {
            var p = $"encoder.layer.{i}.";
            var q = Heads(Linear(x, p + "attention.self.query"));
            var k = Heads(Linear(x, p + "attention.self.key"));
            var v = Heads(Linear(x, p + "attention.self.value"));
            var scores = q.matmul(k.transpose(-1, -2)).div(Math.Sqrt(headSize)) + additiveMask;
            var context = scores.softmax(-1).matmul(v).transpose(1, 2).contiguous().view(batch, length, hidden);
            var attended = Norm(Linear(context, p + "attention.output.dense") + x, p + "attention.output.LayerNorm");
            var intermediate = F.gelu(Linear(attended, p + "intermediate.dense"));
            x = Norm(Linear(intermediate, p + "output.dense") + attended, p + "output.LayerNorm");
        }
        return x;
    }
}
