using Orchestrator.Trainer.Memory;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Lora;

/// <summary>
/// The adapter's first product x Aᵀ for an input in a narrower type than the adapter's (a bf16 or fp16 base under fp32
/// adapters): the input is widened to the adapter's type for the product, as PEFT casts it, but the autograd graph keeps
/// the input as it came (already kept by the layers around it) and widens it again in the backward, instead of keeping a
/// widened copy per adapted projection until the backward reaches it. Those copies were 2.2 MiB per layer of a 168M
/// llama at 64 tokens, twice the input's own size for each of q, k, v, o, gate, up and down. Only this product is a
/// custom node, so what TorchSharp keeps per custom node (an empty tensor shaped like its output, until the graph is
/// freed) is r values per row, not a whole projection's output; the second product, by B, is an ordinary linear. The
/// backward takes the products autograd takes for a linear layer (the weight's gradient gᵀ·input over the flattened
/// rows, the input's g·A) in the adapter's type, and narrows the input's gradient back as the cast's backward does.
/// </summary>
public sealed class LowRankUpdateFunction : autograd.SingleTensorFunction<LowRankUpdateFunction>
{
    public override string Name => nameof(LowRankUpdateFunction);

    /// <summary>(x Aᵀ) Bᵀ in A's type, for x in any floating type; x Aᵀ through this function, the product by B as usual.</summary>
    public static Tensor Apply(Tensor input, Tensor loraA, Tensor loraB)
    {
        using var scope = NewDisposeScope();
        var hidden = apply(input, loraA);
        return nn.functional.linear(hidden, loraB).MoveToOuterDisposeScope();
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var loraA = (Tensor)vars[1];
        using var scope = NewDisposeScope();
        var hidden = nn.functional.linear(input.to(loraA.dtype), loraA);
        ctx.save_for_backward([input, loraA]);
        return hidden.MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) => CustomBackward.Run(grad_output, () =>
    {
        var saved = ctx.get_saved_variables(); // unpacked inside the backward's scope: released when it returns
        Tensor input = saved[0], loraA = saved[1];
        long rank = loraA.shape[0], inFeatures = loraA.shape[1];
        var rows = grad_output.reshape(-1, rank);
        var gradA = rows.t().mm(input.to(loraA.dtype).reshape(-1, inFeatures));
        var gradInput = rows.mm(loraA).reshape(input.shape).to(input.dtype);
        return [gradInput, gradA];
    });
}
