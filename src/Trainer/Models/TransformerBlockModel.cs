using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Models;

/// <summary>
/// The target-module study's block: pre-norm, 8-head self-attention (q/k/v/o 256×256) and a SwiGLU MLP
/// (gate/up 256→1024, down 1024→256), each with a residual; no biases on the projections. Maps [B, T, 256] to
/// [B, T, 256] with no head, so its linear modules are exactly the seven projections.
/// </summary>
public sealed class TransformerBlockModel : nn.Module<Tensor, Tensor>
{
    public const int ModelWidth = 256;
    public const int Heads = 8;
    public const int MlpWidth = 4 * ModelWidth;
    /// <summary>Tokens per sample in the study (its synthetic-regression data is [B, 32, 256]).</summary>
    public const int Tokens = 32;

#pragma warning disable IDE1006
    private nn.Module<Tensor, Tensor> q_proj;
    private nn.Module<Tensor, Tensor> k_proj;
    private nn.Module<Tensor, Tensor> v_proj;
    private nn.Module<Tensor, Tensor> o_proj;
    private nn.Module<Tensor, Tensor> gate_proj;
    private nn.Module<Tensor, Tensor> up_proj;
    private nn.Module<Tensor, Tensor> down_proj;
    private readonly LayerNorm norm1;
    private readonly LayerNorm norm2;
#pragma warning restore IDE1006

    public TransformerBlockModel(long seed) : base(nameof(TransformerBlockModel))
    {
        using var generator = LinearInit.Generator(seed);
        q_proj = LinearInit.Create(ModelWidth, ModelWidth, hasBias: false, generator);
        k_proj = LinearInit.Create(ModelWidth, ModelWidth, hasBias: false, generator);
        v_proj = LinearInit.Create(ModelWidth, ModelWidth, hasBias: false, generator);
        o_proj = LinearInit.Create(ModelWidth, ModelWidth, hasBias: false, generator);
        gate_proj = LinearInit.Create(ModelWidth, MlpWidth, hasBias: false, generator);
        up_proj = LinearInit.Create(ModelWidth, MlpWidth, hasBias: false, generator);
        down_proj = LinearInit.Create(MlpWidth, ModelWidth, hasBias: false, generator);
        norm1 = nn.LayerNorm(ModelWidth);
        norm2 = nn.LayerNorm(ModelWidth);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 3 || input.shape[2] != ModelWidth)
            throw new ArgumentException($"Expected [batch, tokens, {ModelWidth}], got [{string.Join(", ", input.shape)}].", nameof(input));

        using var scope = NewDisposeScope();
        long batch = input.shape[0], tokens = input.shape[1];
        const int headWidth = ModelWidth / Heads;

        var normed = norm1.forward(input);
        Tensor SplitHeads(Tensor projected) => projected.view(batch, tokens, Heads, headWidth).transpose(1, 2);
        var attention = nn.functional.scaled_dot_product_attention(
            SplitHeads(q_proj.forward(normed)), SplitHeads(k_proj.forward(normed)), SplitHeads(v_proj.forward(normed)));
        var merged = attention.transpose(1, 2).contiguous().view(batch, tokens, ModelWidth);
        var x = input + o_proj.forward(merged);

        normed = norm2.forward(x);
        var mlp = down_proj.forward(nn.functional.silu(gate_proj.forward(normed)) * up_proj.forward(normed));
        return (x + mlp).MoveToOuterDisposeScope();
    }
}
