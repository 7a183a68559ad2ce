using Orchestrator.Trials.Models.Llama;

namespace Orchestrator.Trials.Models.Decoders;

/// <summary>One linear module of a decoder: its transformers path, (in, out) features, and whether it has a bias.</summary>
public sealed record DecoderLinear(string Path, long In, long Out, bool Bias)
{
    public long ParameterCount => In * Out + (Bias ? Out : 0);
}

/// <summary>A module of a decoder with weights of its own that is not a LoRA target (embeddings, norms, an untied lm_head): its transformers path and parameter count.</summary>
public sealed record DecoderModule(string Path, long Parameters);

/// <summary>
/// A Hugging Face decoder folder known from its config.json alone (no weights): the linear modules LoRA may target
/// (every one but <c>lm_head</c>), the other modules with weights (what modules_to_save may name), the parameter count,
/// and what activations and seq_len checks need.
/// </summary>
public sealed record DecoderArchitecture(
    string ModelType, int Hidden, int Layers, int Heads, int VocabSize, int MaxPositions, IReadOnlyList<DecoderLinear> Linears, IReadOnlyList<DecoderModule> Others)
{
    public const string ConfigFileName = "config.json";

    /// <summary>The parameters outside <see cref="Linears"/>: embeddings, norms and an untied lm_head.</summary>
    public long OtherParameters => Others.Sum(m => m.Parameters);

    /// <summary>The head's path when it shares its weight with the token embedding (tie_word_embeddings), else null.</summary>
    public string? TiedHead { get; init; }

    /// <summary>The token embedding's path when the head shares it, else null.</summary>
    public string? TiedEmbedding { get; init; }

    /// <summary>Every module with weights, by path, with its own parameter count (a tied head owns none: its weight is the embedding's).</summary>
    public IReadOnlyDictionary<string, long> WeightModules =>
        Linears.Select(l => (l.Path, l.ParameterCount)).Concat(Others.Select(m => (m.Path, m.Parameters)))
            .Concat(TiedHead is { } head ? [(head, 0L)] : [])
            .ToDictionary(m => m.Item1, m => m.Item2, StringComparer.Ordinal);

    /// <summary>The Hub id transformers recorded as <c>_name_or_path</c>, when the file has one.</summary>
    public string? NameOrPath { get; init; }

    /// <summary>Every parameter, each tensor once (a tied lm_head is the embedding).</summary>
    public long ParameterCount => Linears.Sum(l => l.ParameterCount) + OtherParameters;

    /// <summary>PEFT's fan_in_fan_out for adapters of this family: GPT-2's targets are Conv1D.</summary>
    public bool FanInFanOut => ModelType == Gpt2Config.ModelTypeName;

    /// <summary>True when <paramref name="model"/> is a local folder whose config.json names a decoder model_type.</summary>
    public static bool IsDecoderFolder(string model)
    {
        var path = Path.Combine(model, ConfigFileName);
        if (!File.Exists(path)) return false;
        try { return DecoderModelTypes.All.Contains(DecoderModelTypes.Read(path)); }
        catch (InvalidDataException) { return false; }
    }

    /// <summary>The decoder <paramref name="model"/> is when it is a named decoder or a readable decoder folder here, else null.</summary>
    public static DecoderArchitecture? Of(string model)
    {
        if (Named.NamedDecoders.Find(model) is { } named) return FromLlama(named.Config);
        if (!IsDecoderFolder(model)) return null;
        try { return Load(model); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Reads <c>config.json</c> of a decoder folder (any of <see cref="DecoderModelTypes.All"/>); refuses what the loader refuses.</summary>
    public static DecoderArchitecture Load(string folder)
    {
        var path = Path.Combine(folder, ConfigFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"'{folder}' has no {ConfigFileName}.", path);
        return DecoderModelTypes.Read(path) == Gpt2Config.ModelTypeName ? FromGpt2(Gpt2Config.Load(path)) : FromLlama(LlamaConfig.Load(path));
    }

    public static DecoderArchitecture FromLlama(LlamaConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        long h = c.HiddenSize, q = (long)c.NumAttentionHeads * c.HeadDimension, kv = (long)c.KeyValueHeads * c.HeadDimension, i = c.IntermediateSize;
        var linears = new List<DecoderLinear>();
        var others = new List<DecoderModule> { new("model.embed_tokens", c.VocabSize * h) };
        for (var layer = 0; layer < c.NumHiddenLayers; layer++)
        {
            var at = $"model.layers.{layer}";
            linears.Add(new($"{at}.self_attn.q_proj", h, q, c.QkvBias));
            linears.Add(new($"{at}.self_attn.k_proj", h, kv, c.QkvBias));
            linears.Add(new($"{at}.self_attn.v_proj", h, kv, c.QkvBias));
            linears.Add(new($"{at}.self_attn.o_proj", q, h, c.AttentionBias));
            linears.Add(new($"{at}.mlp.gate_proj", h, i, c.MlpBias));
            linears.Add(new($"{at}.mlp.up_proj", h, i, c.MlpBias));
            linears.Add(new($"{at}.mlp.down_proj", i, h, c.MlpBias));
            others.Add(new($"{at}.input_layernorm", h));
            others.Add(new($"{at}.post_attention_layernorm", h));
            if (c.QkNorm)
            {
                others.Add(new($"{at}.self_attn.q_norm", c.HeadDimension));
                others.Add(new($"{at}.self_attn.k_norm", c.HeadDimension));
            }
        }
        others.Add(new("model.norm", h));
        if (!c.TieWordEmbeddings) others.Add(new("lm_head", c.VocabSize * h));
        return new DecoderArchitecture(c.ModelType, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.VocabSize, c.MaxPositionEmbeddings, linears, others)
        {
            NameOrPath = c.NameOrPath,
            TiedHead = c.TieWordEmbeddings ? "lm_head" : null,
            TiedEmbedding = c.TieWordEmbeddings ? "model.embed_tokens" : null,
        };
    }

    public static DecoderArchitecture FromGpt2(Gpt2Config c)
    {
        ArgumentNullException.ThrowIfNull(c);
        long e = c.NEmbd, inner = c.Inner;
        var linears = new List<DecoderLinear>();
        for (var layer = 0; layer < c.NLayer; layer++)
        {
            var at = $"transformer.h.{layer}";
            linears.Add(new($"{at}.attn.c_attn", e, 3 * e, true));
            linears.Add(new($"{at}.attn.c_proj", e, e, true));
            linears.Add(new($"{at}.mlp.c_fc", e, inner, true));
            linears.Add(new($"{at}.mlp.c_proj", inner, e, true));
        }
        var others = new List<DecoderModule> { new("transformer.wte", c.VocabSize * e), new("transformer.wpe", c.NPositions * e) }; // lm_head is wte
        for (var layer = 0; layer < c.NLayer; layer++)
        {
            others.Add(new($"transformer.h.{layer}.ln_1", 2 * e));
            others.Add(new($"transformer.h.{layer}.ln_2", 2 * e));
        }
        others.Add(new("transformer.ln_f", 2 * e));
        return new DecoderArchitecture(c.ModelType, c.NEmbd, c.NLayer, c.NHead, c.VocabSize, c.NPositions, linears, others)
            { NameOrPath = c.NameOrPath, TiedHead = "lm_head", TiedEmbedding = "transformer.wte" };
    }
}
