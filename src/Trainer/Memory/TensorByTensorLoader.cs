using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Memory.Quantization;
using Orchestrator.Trainer.Models.HuggingFace;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Memory;

/// <summary>
/// Loads a checkpoint into a model one tensor at a time: read the tensor from its file, put it in the base's form
/// (<see cref="BaseLoad"/>: converted to the base dtype, or quantised), give it to its module, free the file's copy,
/// next. A model built with its linear and embedding weights on the meta device (no memory) therefore never holds
/// more than its final weights plus one tensor in flight; no full-precision copy of the whole model exists.
/// </summary>
public static class TensorByTensorLoader
{
    /// <summary>
    /// Loads each (model name, checkpoint name) pair; <paramref name="transform"/> turns a checkpoint tensor into the
    /// model's layout (GPT-2's Conv1D transpose). Names and shapes must already be checked. Afterwards no parameter
    /// may be left on the meta device.
    /// </summary>
    public static void Load(nn.Module model, CheckpointTensors checkpoint, IEnumerable<(string ModelName, string CheckpointName)> names,
        BaseLoad load, Func<string, Tensor, Tensor>? transform = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(load);
        var slots = Slots(model);
        var quantizer = BaseQuantization.QuantizerFor(load.Quantize, load.DoubleQuant);
        using var noGrad = no_grad();
        foreach (var (modelName, checkpointName) in names)
        {
            var (module, local) = slots[modelName];
            var read = checkpoint.Read(checkpointName);
            var value = transform is null ? read : transform(modelName, read);
            try
            {
                Place(module, local, modelName, value, load.Dtype, quantizer);
            }
            finally
            {
                if (!ReferenceEquals(value, read)) value.Dispose();
                read.Dispose();
            }
        }
        var unloaded = model.named_parameters().Where(p => p.parameter.device_type == DeviceType.META).Select(p => p.name).ToList();
        if (unloaded.Count > 0)
            throw new InvalidDataException($"'{checkpoint.Source}' left {unloaded.Count} weight(s) unloaded: {string.Join(", ", unloaded.Take(10))}.");
    }

    /// <summary>Every parameter's owning module and its name there, by full name.</summary>
    private static Dictionary<string, (nn.Module Module, string Local)> Slots(nn.Module model)
    {
        var slots = new Dictionary<string, (nn.Module, string)>(StringComparer.Ordinal);
        foreach (var (path, module) in model.named_modules())
            foreach (var (local, _) in module.named_parameters(recurse: false))
                slots.TryAdd(path.Length == 0 ? local : $"{path}.{local}", (module, local));
        return slots;
    }

    private static void Place(nn.Module module, string local, string name, Tensor value, ScalarType dtype, Func<Tensor, IQuantizedWeight>? quantizer)
    {
        switch (module, local)
        {
            case (Linear linear, "weight") when quantizer is not null && !IsOutputHead(name):
                FrozenLinear.Quantize(linear, quantizer(value));
                break;
            case (Linear linear, "weight"):
                linear.weight = Fresh(value, dtype);
                break;
            case (Linear linear, "bias"):
                linear.bias = Fresh(value, dtype);
                break;
            case (Embedding embedding, "weight"):
                embedding.weight = Fresh(value, dtype);
                break;
            default:
                // Small parameters (norms) are built on the CPU in fp32 and copied into; BasePrecision converts them later.
                var own = module.named_parameters(recurse: false).First(p => p.name == local).parameter;
                if (own.device_type == DeviceType.META)
                    throw new InvalidOperationException($"'{name}' is on the meta device but its module ({module.GetType().Name}) cannot take a new tensor.");
                own.copy_(value);
                break;
        }
    }

    /// <summary>
    /// A new parameter holding <paramref name="value"/> in <paramref name="dtype"/>. When the types agree it takes the
    /// tensor as read (its native handle moves into the parameter: no copy, the same bytes).
    /// </summary>
    private static Parameter Fresh(Tensor value, ScalarType dtype) =>
        new(value.dtype == dtype ? value : value.to(dtype), requires_grad: true);

    private static bool IsOutputHead(string name) =>
        name == LoraInjector.OutputHead + ".weight" || name.EndsWith("." + LoraInjector.OutputHead + ".weight", StringComparison.Ordinal);
}
