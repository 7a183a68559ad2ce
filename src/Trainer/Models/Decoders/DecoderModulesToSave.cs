using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Memory.Quantization;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Models.Decoders;

/// <summary>
/// A decoder's modules_to_save (PEFT's): modules that train in full beside the adapter, such as the final norm, and are
/// saved whole in the adapter file. Names are matched as LoRA targets are (the whole module path or a dotted suffix of
/// it: <c>norm</c> is <c>model.norm</c>, not <c>input_layernorm</c>) and resolved to the full paths, which the adapter's
/// config lists, so PEFT (which matches by suffix) wraps exactly those modules.
/// </summary>
public static class DecoderModulesToSave
{
    /// <summary>The full paths of the modules <paramref name="names"/> name, sorted; each name must name a module with weights.</summary>
    /// <param name="tiedHead">The head's path when it shares its weight with the token embedding (tie_word_embeddings), else null.</param>
    /// <param name="tiedEmbedding">The token embedding's path when the head shares it, else null.</param>
    /// <exception cref="ArgumentException">A name matches no module with weights, or names the tied head or embedding.</exception>
    public static IReadOnlyList<string> Resolve(nn.Module model, IReadOnlyList<string> names, string? tiedHead, string? tiedEmbedding)
    {
        var withWeights = model.named_modules()
            .Where(m => m.name.Length > 0 && m.module.named_parameters(recurse: false).Any())
            .Select(m => m.name)
            .Append(tiedHead).OfType<string>() // a tied head's weight is listed under the embedding; it is a module all the same
            .Distinct(StringComparer.Ordinal).ToList();
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module, StringComparer.Ordinal);
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var matched = withWeights.Where(p => LoraInjector.NameMatches(p, name)).ToList();
            if (matched.Count == 0)
                throw new ArgumentException($"modules_to_save '{name}' names no module with weights of this model; its modules with weights are: {string.Join(", ", withWeights)}");
            var tied = matched.FirstOrDefault(p => p == tiedHead || p == tiedEmbedding);
            if (tied is not null)
                throw new ArgumentException(
                    $"modules_to_save '{name}' names {tied}, which shares its weight with {(tied == tiedHead ? tiedEmbedding : tiedHead)} (tie_word_embeddings: true): "
                    + "training one would change both, and untying them is not supported here; name modules with their own weights (such as the final norm, 'norm' or 'ln_f')");
            var quantized = matched.FirstOrDefault(p => modules.TryGetValue(p, out var m) && m is TorchSharp.Modules.Linear linear && FrozenLinear.QuantizedWeightOf(linear) is not null);
            if (quantized is not null)
                throw new ArgumentException(
                    $"modules_to_save '{name}' names {quantized}, whose weight was quantised as the base loaded (quantize); name modules the quantisation leaves in fp32 (norms, lm_head)");
            paths.UnionWith(matched);
        }
        return [.. paths];
    }
}
