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
    /// <param name="refusal">The model's own reason against a module path (GPT-2's Conv1D), or null when it may train in full.</param>
    public static IReadOnlyList<string> Resolve(nn.Module model, IReadOnlyList<string> names, string? tiedHead, string? tiedEmbedding,
        Func<string, string?>? refusal = null)
    {
        var withWeights = model.named_modules()
            .Where(m => m.name.Length > 0 && m.module.named_parameters(recurse: false).Any())
            .Select(m => m.name)
            .Append(tiedHead).OfType<string>() // a tied head's weight is listed under the embedding; it is a module all the same
            .Distinct(StringComparer.Ordinal).ToList();
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module, StringComparer.Ordinal);
        return Match(withWeights, names, tiedHead, tiedEmbedding, path =>
            refusal?.Invoke(path)
            ?? (modules.TryGetValue(path, out var m) && m is TorchSharp.Modules.Linear linear && FrozenLinear.QuantizedWeightOf(linear) is not null
                ? $"{path}, whose weight was quantised as the base loaded (quantize); name modules the quantisation leaves in fp32 (norms, lm_head)"
                : null));
    }

    /// <summary>
    /// The rule of <see cref="Resolve"/> over module paths alone (a loaded model's, or a config.json's through
    /// <c>DecoderArchitecture.WeightModules</c>): every name matches at least one path, never the tied head or embedding,
    /// nor a module <paramref name="refusal"/> gives a reason against.
    /// </summary>
    public static IReadOnlyList<string> Match(IReadOnlyList<string> withWeights, IReadOnlyList<string> names, string? tiedHead, string? tiedEmbedding,
        Func<string, string?>? refusal = null)
    {
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
            if (refusal is not null && matched.Select(refusal).OfType<string>().FirstOrDefault() is { } reason)
                throw new ArgumentException($"modules_to_save '{name}' names {reason}");
            paths.UnionWith(matched);
        }
        return [.. paths];
    }

    /// <summary>Why a GPT-2 Conv1D module (c_attn, c_proj, c_fc) cannot train in full: its weight is kept transposed here, and PEFT saves it in transformers' layout.</summary>
    public static string Conv1DRefusal(string path) =>
        $"{path}, a Conv1D module, which trains as a LoRA target here, not in full; name LayerNorms (ln_f, ln_1, ln_2) or the positions (wpe)";
}
