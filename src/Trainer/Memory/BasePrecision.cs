using System.Runtime.InteropServices;
using Orchestrator.Trials.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Memory;

/// <summary>
/// `base_dtype`: the frozen base stored in bf16 or fp16. After LoRA is injected, every leaf module whose parameters
/// are all frozen (each base linear, embedding and norm; a LoRA layer's base_layer among them) is converted, so the
/// activations through the base take that type too, as transformers with torch_dtype does. LoRA's A and B are
/// parameters of the LoRA layer itself, never of a leaf, so they, their gradients and AdamW's state stay fp32; the
/// LoRA layer feeds its adapter path the input in the adapter's type (PEFT's _cast_input_dtype), and
/// <see cref="Training.TaskLoss"/> computes the loss in fp32.
/// </summary>
public static class BasePrecision
{
    /// <summary>The torch type of a base_dtype value (null is fp32).</summary>
    public static ScalarType Of(BaseDtype? baseDtype) => baseDtype switch
    {
        null or BaseDtype.Fp32 => ScalarType.Float32,
        BaseDtype.Bf16 => ScalarType.BFloat16,
        BaseDtype.Fp16 => ScalarType.Float16,
        _ => throw new ArgumentOutOfRangeException(nameof(baseDtype), baseDtype, null),
    };

    /// <summary>
    /// Refuses a half type the device cannot multiply in (older CPUs' libtorch builds have no fp16 matmul), before
    /// anything is loaded: a tiny linear layer, softmax and norm in that type must run.
    /// </summary>
    /// <exception cref="InvalidTrainingConfigException">The device cannot compute in the config's base_dtype.</exception>
    public static void CheckDevice(TrainingConfig config, Device device)
    {
        if (!config.BaseDtype.IsHalf()) return;
        var dtype = Of(config.BaseDtype);
        try
        {
            using var scope = NewDisposeScope();
            var x = ones(2, 4, dtype: dtype, device: device);
            var y = nn.functional.linear(x, ones(3, 4, dtype: dtype, device: device));
            _ = nn.functional.softmax(y, -1).sum().to(ScalarType.Float32).item<float>();
        }
        catch (Exception e) when (e is ExternalException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidTrainingConfigException([new TrainingConfigProblem("base_dtype",
                $"base_dtype {config.BaseDtype?.ConfigName()} cannot compute on device {device.type}: its libtorch has no {dtype} matrix product here ({FirstLine(e.Message)}); use base_dtype bf16 or fp32")]);
        }
    }

    /// <summary>Converts every all-frozen leaf module of <paramref name="model"/> to the config's base type; returns how many it converted.</summary>
    public static int Apply(nn.Module model, BaseDtype? baseDtype)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!baseDtype.IsHalf()) return 0;
        var dtype = Of(baseDtype);
        var converted = 0;
        foreach (var module in model.modules().ToList())
        {
            if (module.children().Any()) continue;
            var own = module.parameters(recurse: false).ToList();
            if (own.Count == 0 || own.Any(p => p.requires_grad) || own.All(p => p.dtype == dtype)) continue;
            module.to(dtype);
            converted++;
        }
        return converted;
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
