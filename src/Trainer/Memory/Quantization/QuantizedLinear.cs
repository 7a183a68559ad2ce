using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Memory.Quantization;

/// <summary>
/// Where a frozen linear layer's product is computed: through its quantised weight when <see cref="BaseQuantization"/>
/// quantised it, else by the layer itself. LoRA layers reach their base layer through here, so a quantised base needs
/// no other change to them.
/// </summary>
public static class FrozenLinear
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Linear, IQuantizedWeight> Quantized = new();

    /// <summary>The layer's output for <paramref name="input"/>.</summary>
    public static Tensor Forward(Linear layer, Tensor input) =>
        Quantized.TryGetValue(layer, out var weight) ? QuantizedLinearFunction.Apply(input, weight, layer.bias) : layer.forward(input);

    /// <summary>The quantised weight a layer computes with, or null.</summary>
    public static IQuantizedWeight? QuantizedWeightOf(Linear layer) => Quantized.TryGetValue(layer, out var weight) ? weight : null;

    /// <summary>Holds <paramref name="layer"/>'s weight as <paramref name="weight"/> from now on and frees the full-precision one.</summary>
    internal static void Quantize(Linear layer, IQuantizedWeight weight)
    {
        Quantized.AddOrUpdate(layer, weight);
        var old = layer.weight!;
        // A layer built on the meta device to be loaded quantised gets its placeholder on the CPU, as every other weight.
        var device = old.device_type == DeviceType.META ? CPU : old.device;
        layer.weight = new Parameter(empty(0, dtype: old.dtype, device: device), requires_grad: false);
        old.Dispose();
    }
}

/// <summary>A frozen linear layer that no adapter wraps, its weight quantised (module path and bias as the layer it replaces).</summary>
public sealed class QuantizedLinear : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // the replaced layer's registered name, so the bias keeps its state_dict key
    private readonly Linear base_layer;
#pragma warning restore IDE1006

    public QuantizedLinear(Linear layer) : base(nameof(QuantizedLinear))
    {
        base_layer = layer;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => FrozenLinear.Forward(base_layer, input);
}
