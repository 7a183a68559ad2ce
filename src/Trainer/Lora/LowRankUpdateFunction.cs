using TorchSharp;
using Orchestrator.Trainer.Memory;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Lora;

/// <summary>
/// The adapter's update (x Aᵀ) Bᵀ for an input in a narrower type than the adapter's (a bf16 or fp16 base under fp32
/// adapters): the input is widened to the adapter's type for the products, as PEFT casts it, but the autograd graph
/// keeps the input as it came (already kept by the layers around it) and widens it (and takes x Aᵀ) again in the backward, instead of
/// keeping a widened copy per adapted projection until the backward reaches it. Those copies were 2.2 MiB per layer of a
/// 168M llama at 64 tokens, twice the input's own size for each of q, k, v, o, gate, up and down. The products are the
/// ones autograd takes for two linear layers (the weight gradients gᵀ·input over the flattened rows, the input's g·W),
/// in the adapter's type; the input's gradient is narrowed back to the input's type as the cast's backward does.
/// </summary>
public sealed class LowRankUpdateFunction : autograd.SingleTensorFunction<LowRankUpdateFunction>
{
    public override string Name => nameof(LowRankUpdateFunction);

    /// <summary>(x Aᵀ) Bᵀ in A's type, for x in any floating type.</summary>
    public static Tensor Apply(Tensor input, Tensor loraA, Tensor loraB) => apply(input, loraA, loraB);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var loraA = (Tensor)vars[1];
        var loraB = (Tensor)vars[2];
        using var scope = NewDisposeScope();
        var update = nn.functional.linear(nn.functional.linear(input.to(loraA.dtype), loraA), loraB);
        ctx.save_for_backward([input, loraA, loraB]);
        return update.MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) => CustomBackward.Run(grad_output, () =>
    {
        var saved = ctx.get_saved_variables(); // unpacked inside the backward's scope: released when it returns
        Tensor input = saved[0], loraA = saved[1], loraB = saved[2];
        long inFeatures = loraA.shape[1], outFeatures = loraB.shape[0];
        // The widened input and x Aᵀ again (r values per row: a fraction of the step), rather than kept since the forward.
        var wide = input.to(loraA.dtype).reshape(-1, inFeatures);
        var hidden = nn.functional.linear(wide, loraA);
        var rows = grad_output.reshape(-1, outFeatures);
        var gradB = rows.t().mm(hidden);
        var gradHidden = rows.mm(loraB);
        var gradA = gradHidden.t().mm(wide);
        var gradInput = gradHidden.mm(loraA).reshape(input.shape).to(input.dtype);
        return [gradInput, gradA, gradB];
    });
}
