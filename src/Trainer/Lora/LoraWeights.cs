using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Lora;

/// <summary>
/// The adapter tensors of a model under PEFT's names: <c>base_model.model.&lt;path&gt;.lora_A.weight</c> /
/// <c>.lora_B.weight</c>, plus each bias that trains (PEFT's bias `all` / `lora_only`) under its key in PEFT's
/// state dict: <c>base_model.model.&lt;path&gt;.base_layer.bias</c> for a layer LoRA wraps (PEFT keeps the wrapped
/// layer as <c>base_layer</c>), <c>base_model.model.&lt;path&gt;.bias</c> for any other. Loading also accepts the
/// unwrapped spelling of a wrapped layer's bias, as PEFT before 0.7 wrote it. A model's modules_to_save
/// (<see cref="IModulesToSave"/>) are saved whole as <c>base_model.model.&lt;parameter name&gt;</c>, as PEFT saves them.
/// </summary>
public static class LoraWeights
{
    public const string KeyPrefix = "base_model.model.";
    public const string LoraASuffix = ".lora_A.weight";
    public const string LoraBSuffix = ".lora_B.weight";
    private const string WrappedLayer = ".base_layer.";

    public static string LoraAKey(string path) => KeyPrefix + path + LoraASuffix;
    public static string LoraBKey(string path) => KeyPrefix + path + LoraBSuffix;

    /// <summary>Detached CPU copies of the adapter tensors, in model order. The caller owns (and disposes) them.</summary>
    public static Dictionary<string, Tensor> Get(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in Entries(model, trainableBiasesOnly: true))
            result[key] = CpuCopy(tensor);
        return result;
    }

    /// <summary>
    /// Detached CPU copies of the A and B of <paramref name="modules"/> under the same keys as <see cref="Get(nn.Module)"/>:
    /// one member's adapter in a pack, whose layers are not children of the model. The caller owns the tensors.
    /// </summary>
    public static Dictionary<string, Tensor> Get(IEnumerable<AdaptedModule> modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (path, layer) in modules)
        {
            result[LoraAKey(path)] = CpuCopy(layer.LoraA);
            result[LoraBKey(path)] = CpuCopy(layer.LoraB);
        }
        return result;
    }

    /// <summary>
    /// Copies <paramref name="weights"/> into the model's adapters (and biases). With <paramref name="strict"/>, every
    /// key must name an adapter tensor or bias of the model and every adapter's A and B must be given.
    /// </summary>
    public static void Set(nn.Module model, IReadOnlyDictionary<string, Tensor> weights, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(weights);
        var targets = Entries(model, trainableBiasesOnly: false).ToDictionary(e => e.Key, e => e.Tensor, StringComparer.Ordinal);
        foreach (var (key, tensor) in targets.Where(t => t.Key.Contains(WrappedLayer, StringComparison.Ordinal)).ToList())
            targets.TryAdd(key.Replace(WrappedLayer, ".", StringComparison.Ordinal), tensor);

        if (strict)
        {
            var unexpected = weights.Keys.Where(k => !targets.ContainsKey(k)).ToList();
            if (unexpected.Count > 0)
                throw new ArgumentException($"Adapter weights the model has no place for: {string.Join(", ", unexpected)}.", nameof(weights));
            var missing = targets.Keys.Where(k => (k.EndsWith(LoraASuffix, StringComparison.Ordinal) || k.EndsWith(LoraBSuffix, StringComparison.Ordinal))
                                                  && !weights.ContainsKey(k)).ToList();
            if (missing.Count > 0)
                throw new ArgumentException($"Adapter weights missing: {string.Join(", ", missing)}.", nameof(weights));
        }

        using var noGrad = no_grad();
        foreach (var (key, source) in weights)
        {
            if (!targets.TryGetValue(key, out var target)) continue;
            if (!source.shape.SequenceEqual(target.shape))
                throw new ArgumentException(
                    $"'{key}' has shape [{string.Join(", ", source.shape)}]; the model expects [{string.Join(", ", target.shape)}].", nameof(weights));
            target.copy_(source);
        }
    }

    private static IEnumerable<(string Key, Tensor Tensor)> Entries(nn.Module model, bool trainableBiasesOnly)
    {
        foreach (var (path, module) in AdaptedLayers(model, prefix: null))
        {
            yield return (LoraAKey(path), module.LoraA);
            yield return (LoraBKey(path), module.LoraB);
        }
        var modulesToSave = ModulesToSave.Of(model);
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (ModulesToSave.Covers(modulesToSave, name))
            {
                yield return (KeyPrefix + name, parameter);
                continue;
            }
            if (!(name == "bias" || name.EndsWith(".bias", StringComparison.Ordinal))) continue;
            if (trainableBiasesOnly && !parameter.requires_grad) continue;
            yield return (KeyPrefix + name, parameter);
        }
    }

    private static IEnumerable<(string Path, LoraLinear Layer)> AdaptedLayers(nn.Module module, string? prefix)
    {
        foreach (var (name, child) in module.named_children())
        {
            var path = prefix is null ? name : $"{prefix}.{name}";
            if (child is LoraLinear layer) yield return (path, layer);
            else foreach (var nested in AdaptedLayers(child, path)) yield return nested;
        }
    }

    private static Tensor CpuCopy(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        return tensor.detach().cpu().clone().MoveToOuterDisposeScope();
    }
}
