using Orchestrator.Trainer.Lora;
using Orchestrator.Trials.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Memory.Quantization;

/// <summary>
/// `quantize`: after LoRA is injected, every frozen linear layer of the base (each LoRA layer's base layer and every
/// linear no adapter wraps) holds its weight as NF4 or int8 and de-quantises it per product
/// (<see cref="QuantizedLinearFunction"/>). The output head stays as it is, as transformers leaves lm_head out of
/// bitsandbytes' conversion; embeddings and norms are not linear and stay too. Layer by layer, so no second
/// full-precision copy of the model is made.
/// </summary>
public static class BaseQuantization
{
    /// <summary>Quantises the model's frozen linear layers; returns how many, and the bytes their weights now hold.</summary>
    public static (int Layers, long Bytes) Apply(nn.Module model, QuantizeMode? quantize, bool doubleQuant = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (QuantizerFor(quantize, doubleQuant) is not { } quantizer) return (0, 0);
        int layers = 0;
        long bytes = 0;
        void Quantize(TorchSharp.Modules.Linear linear)
        {
            // Quantised as it loaded (TensorByTensorLoader): counted, not quantised twice.
            if (FrozenLinear.QuantizedWeightOf(linear) is not { } weight)
            {
                weight = quantizer(linear.weight!);
                FrozenLinear.Quantize(linear, weight);
            }
            layers++;
            bytes += weight.Bytes;
        }
        foreach (var lora in model.modules().OfType<LoraLinear>().ToList()) Quantize(lora.BaseLayer);
        foreach (var site in LoraInjector.LinearModules(model).ToList())
        {
            if (site.Path == LoraInjector.OutputHead || site.Path.EndsWith("." + LoraInjector.OutputHead, StringComparison.Ordinal)) continue;
            if (site.Linear.weight is not { requires_grad: false }) continue; // a trained weight is never quantised
            Quantize(site.Linear);
            LoraInjector.Replace(site.Parent, site.Name, site.Path, new QuantizedLinear(site.Linear));
        }
        return (layers, bytes);
    }

    /// <summary>The quantiser of a quantize value (NF4 with its block scales double-quantised when asked); null for none.</summary>
    public static Func<Tensor, IQuantizedWeight>? QuantizerFor(QuantizeMode? quantize, bool doubleQuant = false) => quantize switch
    {
        null or QuantizeMode.None => null,
        QuantizeMode.Nf4 => w => Nf4.Quantize(w, doubleQuant),
        QuantizeMode.Int8 => w => Int8Rowwise.Quantize(w),
        _ => throw new ArgumentOutOfRangeException(nameof(quantize), quantize, null),
    };
}
