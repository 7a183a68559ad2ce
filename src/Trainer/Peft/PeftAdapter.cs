using System.Text;
using Orchestrator.Trainer.Safetensors;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Peft;

/// <summary>
/// A LoRA adapter folder in Hugging Face PEFT's layout: <c>adapter_model.safetensors</c> with keys
/// <c>base_model.model.&lt;module path&gt;.lora_A.weight</c> ([r, in]) and <c>.lora_B.weight</c> ([out, r]), and
/// <c>adapter_config.json</c>. `PeftModel.from_pretrained(base, folder)` loads what <see cref="Save"/> writes.
/// </summary>
public static class PeftAdapter
{
    public const string WeightsFileName = "adapter_model.safetensors";
    public const string KeyPrefix = "base_model.model.";
    private const string ASuffix = ".lora_A.weight";
    private const string BSuffix = ".lora_B.weight";

    public static string LoraAKey(string modulePath) => KeyPrefix + modulePath + ASuffix;
    public static string LoraBKey(string modulePath) => KeyPrefix + modulePath + BSuffix;

    /// <summary>A trained bias (PEFT bias `all` / `lora_only`): <c>base_model.model.&lt;path&gt;[.base_layer].bias</c>.</summary>
    public static bool IsBiasKey(string key) =>
        key.StartsWith(KeyPrefix, StringComparison.Ordinal) && key.EndsWith(".bias", StringComparison.Ordinal) && key.Length > KeyPrefix.Length + ".bias".Length;

    /// <summary>The module path a PEFT key belongs to (`base_model.model.x.y.lora_A.weight` → `x.y`), or null for other keys.</summary>
    public static string? ModulePathOf(string key)
    {
        if (!key.StartsWith(KeyPrefix, StringComparison.Ordinal)) return null;
        foreach (var suffix in new[] { ASuffix, BSuffix })
        {
            if (key.EndsWith(suffix, StringComparison.Ordinal) && key.Length > KeyPrefix.Length + suffix.Length)
            {
                return key[KeyPrefix.Length..^suffix.Length];
            }
        }
        return null;
    }

    /// <summary>
    /// Writes both files (each atomically). Every key must be a PEFT LoRA key, every A must have its B, and their
    /// ranks must agree; the tensors are written as given (dtype and values untouched). Keys of modules the config lists
    /// in modules_to_save (<c>base_model.model.classifier.weight</c>) are the trained head, as PEFT saves it.
    /// </summary>
    public static void Save(string directory, IReadOnlyDictionary<string, Tensor> adapterWeights, PeftAdapterConfig config)
    {
        ArgumentNullException.ThrowIfNull(adapterWeights);
        ArgumentNullException.ThrowIfNull(config);
        Validate(adapterWeights, config.ModulesToSave);
        Directory.CreateDirectory(directory);
        SafetensorsFile.Write(Path.Combine(directory, WeightsFileName), adapterWeights, new Dictionary<string, string> { ["format"] = "pt" });

        var configPath = Path.Combine(directory, PeftAdapterConfig.FileName);
        var temp = Path.Combine(directory, $".{PeftAdapterConfig.FileName}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllText(temp, config.ToJson(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            File.Move(temp, configPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>The weights (CPU tensors the caller owns and disposes) and the config of an adapter folder.</summary>
    public static (Dictionary<string, Tensor> Weights, PeftAdapterConfig Config) Load(string directory)
    {
        var configPath = Path.Combine(directory, PeftAdapterConfig.FileName);
        var weightsPath = Path.Combine(directory, WeightsFileName);
        var missing = new[] { configPath, weightsPath }.Where(p => !File.Exists(p)).ToArray();
        if (missing.Length > 0)
        {
            throw new FileNotFoundException($"'{directory}' is not a PEFT adapter folder: missing {string.Join(" and ", missing.Select(Path.GetFileName))}.");
        }
        var config = PeftAdapterConfig.FromJson(File.ReadAllText(configPath), configPath);
        var (weights, _) = SafetensorsFile.ReadAll(weightsPath);
        return (weights, config);
    }

    private static void Validate(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyList<string>? modulesToSave)
    {
        var problems = new List<string>();
        foreach (var (key, tensor) in weights)
        {
            if (key.StartsWith(KeyPrefix, StringComparison.Ordinal) && Lora.ModulesToSave.Covers(modulesToSave, key[KeyPrefix.Length..])) continue;
            if (key.StartsWith(KeyPrefix, StringComparison.Ordinal) && key.EndsWith(Lora.LoraWeights.MagnitudeSuffix, StringComparison.Ordinal))
            {
                if (tensor.dim() != 1) problems.Add($"'{key}' has shape [{string.Join(",", tensor.shape)}]; DoRA's magnitude is a vector");
                continue;
            }
            if (IsBiasKey(key))
            {
                if (tensor.dim() != 1) problems.Add($"'{key}' has shape [{string.Join(",", tensor.shape)}]; a bias is a vector");
                continue;
            }
            var path = ModulePathOf(key);
            if (path is null)
            {
                problems.Add($"'{key}' is not of the form {KeyPrefix}<module path>{ASuffix}, {BSuffix}, {Lora.LoraWeights.MagnitudeSuffix} or .bias");
                continue;
            }
            if (tensor.dim() != 2)
            {
                problems.Add($"'{key}' has shape [{string.Join(",", tensor.shape)}]; LoRA factors are matrices");
                continue;
            }
            if (!key.EndsWith(ASuffix, StringComparison.Ordinal)) continue;
            if (!weights.TryGetValue(LoraBKey(path), out var b))
            {
                problems.Add($"'{key}' has no matching '{LoraBKey(path)}'");
            }
            else if (b.dim() == 2 && b.shape[1] != tensor.shape[0])
            {
                problems.Add($"'{path}': lora_A is [{string.Join(",", tensor.shape)}] but lora_B is [{string.Join(",", b.shape)}]; B's columns must equal A's rows (the rank)");
            }
        }
        foreach (var key in weights.Keys.Where(k => k.EndsWith(BSuffix, StringComparison.Ordinal)))
        {
            var path = ModulePathOf(key);
            if (path is not null && !weights.ContainsKey(LoraAKey(path))) problems.Add($"'{key}' has no matching '{LoraAKey(path)}'");
        }
        if (problems.Count > 0)
        {
            throw new ArgumentException("Adapter weights are not a PEFT LoRA state dict: " + string.Join("; ", problems) + ".", nameof(weights));
        }
    }
}
