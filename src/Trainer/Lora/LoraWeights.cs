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
/// DoRA's magnitudes are <c>base_model.model.&lt;path&gt;.lora_magnitude_vector</c>, the key PEFT writes (its
/// <c>_get_adapter_state_dict</c> drops the <c>.weight</c> of the module that holds them); loading also accepts that
/// <c>.weight</c> spelling.
/// </summary>
public static class LoraWeights
{
    public const string KeyPrefix = "base_model.model.";
    public const string LoraASuffix = ".lora_A.weight";
    public const string LoraBSuffix = ".lora_B.weight";
    private const string WrappedLayer = ".base_layer.";

    public const string MagnitudeSuffix = ".lora_magnitude_vector";

    public static string LoraAKey(string path) => KeyPrefix + path + LoraASuffix;
    public static string LoraBKey(string path) => KeyPrefix + path + LoraBSuffix;
    public static string MagnitudeKey(string path) => KeyPrefix + path + MagnitudeSuffix;

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
            if (layer.MagnitudeVector is { } magnitude) result[MagnitudeKey(path)] = CpuCopy(magnitude);
        }
        return result;
    }

    /// <summary>
    /// <see cref="Get(nn.Module)"/>, but an adapter whose start changed the base weight (PiSSA, OLoRA) is expressed
    /// against the unmodified base, as PEFT's save_pretrained(path_initial_model_for_weight_conversion=…) does
    /// (subtract_mutated_init): W_res + s·B·A = W + s·(B·A − B₀·A₀) = W + s·[B | −B₀]·[A ; A₀], so A becomes
    /// [A ; A₀] (2r rows) and B becomes [B | −B₀] (2r columns) at the same scaling. Other tensors (DoRA's magnitudes,
    /// biases, modules_to_save) are kept as they are: W + s·B'·A' is the same matrix, so DoRA's norms are too.
    /// </summary>
    public static Dictionary<string, Tensor> GetAgainstUnmodifiedBase(nn.Module model)
    {
        var result = Get(model);
        foreach (var (path, layer) in AdaptedLayers(model, prefix: null))
        {
            if (layer.InitialLoraA is not { } a0 || layer.InitialLoraB is not { } b0) continue;
            var (aKey, bKey) = (LoraAKey(path), LoraBKey(path));
            using var a = result[aKey];
            using var b = result[bKey];
            using var negatedB0 = b0.neg();
            result[aKey] = torch.cat([a, a0.to(a.dtype)], 0);
            result[bKey] = torch.cat([b, negatedB0.to(b.dtype)], 1);
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
        foreach (var (key, tensor) in targets.Where(t => t.Key.EndsWith(MagnitudeSuffix, StringComparison.Ordinal)).ToList())
            targets.TryAdd(key + ".weight", tensor); // the magnitude's name inside PEFT's model

        if (strict)
        {
            var unexpected = weights.Keys.Where(k => !targets.ContainsKey(k)).ToList();
            if (unexpected.Count > 0)
                throw new ArgumentException($"Adapter weights the model has no place for: {string.Join(", ", unexpected)}.", nameof(weights));
            var missing = targets.Keys.Where(k => (k.EndsWith(LoraASuffix, StringComparison.Ordinal) || k.EndsWith(LoraBSuffix, StringComparison.Ordinal)
                                                   || (k.EndsWith(MagnitudeSuffix, StringComparison.Ordinal) && !weights.ContainsKey(k + ".weight")))
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
            if (module.MagnitudeVector is { } magnitude) yield return (MagnitudeKey(path), magnitude);
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
