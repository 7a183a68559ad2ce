using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Orchestrator.Trials.Hashing;
using Orchestrator.Trials.Models.Llama;

namespace Orchestrator.Trials.Models.Named;

/// <summary>
/// How a named decoder is made here, once: a byte-level BPE tokenizer trained on the corpus's first
/// <see cref="TokenizerDocuments"/> documents, then the model trained from its seeded random init on every training
/// document of the corpus (each preceded by the end-of-text token, packed into windows of <see cref="SequenceLength"/>),
/// AdamW, cosine schedule with <see cref="WarmupSteps"/> of warm-up, for <see cref="MaxSteps"/> steps.
/// </summary>
public sealed record DecoderPretrainRecipe
{
    /// <summary>A named labelled-text dataset (<see cref="Data.NamedDatasets"/>) whose training split's texts are the corpus.</summary>
    [JsonPropertyName("corpus")] public required string Corpus { get; init; }
    /// <summary>Every id of the tokenizer, the end-of-text token included (256 bytes + merges + 1).</summary>
    [JsonPropertyName("vocab_size")] public required int VocabSize { get; init; }
    [JsonPropertyName("tokenizer_documents")] public required int TokenizerDocuments { get; init; }
    [JsonPropertyName("seq_len")] public required int SequenceLength { get; init; }
    [JsonPropertyName("batch_size")] public required int BatchSize { get; init; }
    [JsonPropertyName("max_steps")] public required int MaxSteps { get; init; }
    [JsonPropertyName("warmup_steps")] public required int WarmupSteps { get; init; }
    [JsonPropertyName("lr")] public required double LearningRate { get; init; }
    [JsonPropertyName("seed")] public long Seed { get; init; }
}

/// <summary>
/// A decoder a sweep can name (`model: imdb-llama`) that no package ships, so it is pretrained here once from its
/// <see cref="Recipe"/> into a Hugging Face folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json)
/// and shared like a pulled model (<see cref="Training.INamedResources"/>). Its shape is known before it exists, so
/// validation, parameter counts and memory estimates need no pretraining.
/// </summary>
public sealed record NamedDecoder(string Name, string Description, LlamaConfig Config, DecoderPretrainRecipe Recipe)
{
    /// <summary>First 12 hex of sha256 over the config and recipe: a changed recipe is another base, never a stale one.</summary>
    public string Version => FileHashes.Sha256(Encoding.UTF8.GetBytes(Config.ToJson() + "\n" + JsonSerializer.Serialize(Recipe)))[..12];
}

/// <summary>The named decoders (pretrained here; see src/Models).</summary>
public static class NamedDecoders
{
    /// <summary>
    /// A Llama of 4 layers, hidden 128, 4 heads, SwiGLU 352, tied embeddings, a 2,048-token byte-level BPE vocabulary
    /// (about 1.06 M parameters), pretrained on the first training reviews of IMDB (none of its validation or test
    /// reviews) for 3,000 steps of 16 × 128 tokens (6.1 M tokens, about 17,000 reviews): held-out perplexity 2,100 → 52,
    /// in about 24 minutes on two shared CPU cores, once. (300 steps gave 239, a base whose logits were too small for a
    /// LoRA adapter to move: see the README's decoder study.)
    /// </summary>
    public static readonly NamedDecoder ImdbLlama = new(
        "imdb-llama",
        "a small Llama pretrained here on the IMDB training reviews",
        new LlamaConfig
        {
            VocabSize = 2048, HiddenSize = 128, IntermediateSize = 352, NumHiddenLayers = 4, NumAttentionHeads = 4, NumKeyValueHeads = 4,
            MaxPositionEmbeddings = 512, TieWordEmbeddings = true, RmsNormEps = 1e-5, NameOrPath = "imdb-llama",
        },
        new DecoderPretrainRecipe
        {
            Corpus = Data.NamedDatasets.Imdb, VocabSize = 2048, TokenizerDocuments = 4000, SequenceLength = 128, BatchSize = 16,
            MaxSteps = 3000, WarmupSteps = 100, LearningRate = 3e-3,
        });

    public static readonly IReadOnlyList<NamedDecoder> All = [ImdbLlama];

    public static IReadOnlyList<string> Names => All.Select(d => d.Name).ToList();

    /// <summary>The named decoder <paramref name="model"/> names (case-insensitive), or null when it is not a name of one.</summary>
    public static NamedDecoder? Find(string? model) =>
        model is null ? null : All.FirstOrDefault(d => string.Equals(d.Name, model, StringComparison.OrdinalIgnoreCase));
}
