using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Peft;

/// <summary>What <see cref="AdapterMerge.MergeAndSave"/> did: the modules whose weights took B·A·scaling, and the weights it replaced outright.</summary>
public sealed record AdapterMergeResult(string OutputFolder, IReadOnlyList<string> MergedModules, IReadOnlyList<string> ReplacedWeights);

/// <summary>
/// PEFT's <c>merge_and_unload</c> then <c>save_pretrained</c> for a decoder folder: every adapted module's weight becomes
/// W + B·A·scaling (alpha/r, alpha/√r with rsLoRA), trained biases and modules_to_save replace the base's, and the result
/// is a plain Hugging Face folder (float32 weights) that <see cref="CausalLanguageModels.FromPretrained"/> loads. GPT-2's
/// Conv1D weights (PEFT's fan_in_fan_out) are held [out, in] here like any Linear, so the same sum holds before they are
/// written back [in, out].
/// </summary>
public static class AdapterMerge
{
    /// <summary>Files of the base folder that are neither its config nor its weights (tokenizer, generation config, …): copied as they are.</summary>
    private static bool IsCompanionFile(string name) =>
        name != CausalLanguageModels.ConfigFileName && !name.EndsWith(".safetensors", StringComparison.Ordinal)
        && name != DecoderCheckpoint.ShardIndexFileName && !name.EndsWith(".bin", StringComparison.Ordinal) && !name.StartsWith('.');

    public static AdapterMergeResult MergeAndSave(string modelFolder, string adapterFolder, string outputFolder)
    {
        var (weights, peft) = PeftAdapter.Load(adapterFolder);
        try
        {
            if (peft.PeftType != PeftAdapterConfig.LoraPeftType)
                throw new InvalidDataException($"{adapterFolder}: peft_type '{peft.PeftType}' cannot be merged (only {PeftAdapterConfig.LoraPeftType}).");
            if (peft.UseDora) throw new InvalidDataException($"{adapterFolder}: use_dora adapters cannot be merged here yet (plain LoRA only).");
            if (peft.AlphaPattern.Count > 0)
                throw new InvalidDataException($"{adapterFolder}: alpha_pattern is not supported by merge (give one lora_alpha).");
            using var model = CausalLanguageModels.FromPretrained(modelFolder);
            var (merged, replaced) = Apply((nn.Module)model, weights, peft, adapterFolder);
            AtomicFile.WriteDirectory(outputFolder, temp =>
            {
                CausalLanguageModels.SavePretrained(model, temp);
                KeepBaseConfig(Path.Combine(modelFolder, CausalLanguageModels.ConfigFileName), Path.Combine(temp, CausalLanguageModels.ConfigFileName));
                foreach (var file in Directory.GetFiles(modelFolder).Where(f => IsCompanionFile(Path.GetFileName(f))))
                    File.Copy(file, Path.Combine(temp, Path.GetFileName(file)));
            });
            return new AdapterMergeResult(outputFolder, merged, replaced);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    /// <summary>Adds each module's B·A·scaling to its weight, and copies trained biases / saved modules, in place.</summary>
    public static (IReadOnlyList<string> Merged, IReadOnlyList<string> Replaced) Apply(nn.Module model, IReadOnlyDictionary<string, Tensor> weights,
        PeftAdapterConfig peft, string source)
    {
        var state = model.state_dict();
        var merged = new List<string>();
        var replaced = new List<string>();
        var unknown = new List<string>();
        using var noGrad = torch.no_grad();
        foreach (var key in weights.Keys.Order(StringComparer.Ordinal))
        {
            if (PeftAdapter.ModulePathOf(key) is { } path)
            {
                if (!key.EndsWith(".lora_A.weight", StringComparison.Ordinal)) continue; // B is read with its A
                if (!state.TryGetValue(path + ".weight", out var target) || !weights.TryGetValue(PeftAdapter.LoraBKey(path), out var b))
                {
                    unknown.Add(key);
                    continue;
                }
                using var scope = torch.NewDisposeScope();
                var a = weights[key].to(ScalarType.Float32);
                var rank = a.shape[0];
                var scaling = peft.UseRslora ? peft.LoraAlpha / Math.Sqrt(rank) : peft.LoraAlpha / rank;
                var delta = b.to(ScalarType.Float32).matmul(a).mul_(scaling);
                if (!delta.shape.SequenceEqual(target.shape))
                    throw new InvalidDataException($"{source}: {path} has lora_B·lora_A [{string.Join(",", delta.shape)}] but the model's weight is [{string.Join(",", target.shape)}].");
                target.add_(delta.to(target.dtype));
                merged.Add(path);
                continue;
            }
            // A trained bias or a modules_to_save tensor: base_model.model.<name>, where <name> may go through modules_to_save.default.
            var name = key.StartsWith(PeftAdapter.KeyPrefix, StringComparison.Ordinal) ? key[PeftAdapter.KeyPrefix.Length..] : key;
            name = name.Replace(".modules_to_save.default.", ".", StringComparison.Ordinal).Replace(".base_layer.", ".", StringComparison.Ordinal);
            if (!state.TryGetValue(name, out var own))
            {
                unknown.Add(key);
                continue;
            }
            var value = weights[key];
            var transposed = model is Gpt2Model && Gpt2Model.IsConv1DWeight(name);
            using (var scope = torch.NewDisposeScope())
                own.copy_(transposed ? value.t() : value);
            replaced.Add(name);
        }
        if (unknown.Count > 0)
            throw new InvalidDataException($"{source}: adapter tensors for modules this model does not have: {string.Join(", ", unknown.Take(10))}{(unknown.Count > 10 ? ", …" : "")}.");
        if (merged.Count == 0 && replaced.Count == 0) throw new InvalidDataException($"{source}: the adapter holds no LoRA weights to merge.");
        return (merged, replaced);
    }

    /// <summary>The merged folder keeps every key of the base's config.json (token ids, _name_or_path, …); its weights are float32 now.</summary>
    private static void KeepBaseConfig(string basePath, string outputPath)
    {
        var config = JsonNode.Parse(File.ReadAllText(basePath))!.AsObject();
        config["torch_dtype"] = "float32";
        File.WriteAllText(outputPath, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
