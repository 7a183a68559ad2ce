using TorchSharp;
using Orchestrator.Trainer.Memory;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Memory.Quantization;

/// <summary>
/// y = x Wᵀ (+ b) with W de-quantised in the forward and again in the backward, never saved: the autograd graph keeps
/// only the quantised weight, so a layer's full-precision weight exists only while its own product runs (QLoRA's
/// "de-quantise on the fly"). The weight is frozen: the backward gives the input's gradient only.
/// </summary>
public sealed class QuantizedLinearFunction : autograd.SingleTensorFunction<QuantizedLinearFunction>
{
    private const string WeightKey = "weight";

    public override string Name => nameof(QuantizedLinearFunction);

    /// <summary>The product for <paramref name="input"/> in its own type (the de-quantised weight takes it).</summary>
    public static Tensor Apply(Tensor input, IQuantizedWeight weight, Tensor? bias) => apply(input, weight, bias!);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var weight = (IQuantizedWeight)vars[1];
        var bias = vars[2] as Tensor;
        ctx.save_data(WeightKey, weight);
        using var scope = NewDisposeScope();
        using var full = weight.Dequantize(input.dtype);
        var output = nn.functional.linear(input, full, bias is null ? null : bias.to(input.dtype));
        return output.MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        var weight = (IQuantizedWeight)ctx.get_data(WeightKey);
        return CustomBackward.Run(grad_output, () =>
        {
            using var full = weight.Dequantize(grad_output.dtype);
            return [grad_output.matmul(full), null!, null!];
        });
    }
}
