using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Trials.Models.Decoders;

/// <summary>
/// The fields of a Hugging Face GPT-2 <c>config.json</c> (model_type gpt2) this model uses, with transformers' defaults
/// for those a file leaves out. Unknown keys are ignored on read.
/// </summary>
public sealed record Gpt2Config
{
    public const string FileName = "config.json";
    public const string ModelTypeName = "gpt2";

    public int VocabSize { get; init; } = 50257;
    public int NPositions { get; init; } = 1024;
    public int NEmbd { get; init; } = 768;
    public int NLayer { get; init; } = 12;
    public int NHead { get; init; } = 12;
    /// <summary>Null means 4 × <see cref="NEmbd"/>.</summary>
    public int? NInner { get; init; }
    public string ActivationFunction { get; init; } = "gelu_new";
    public double LayerNormEpsilon { get; init; } = 1e-5;
    public double InitializerRange { get; init; } = 0.02;
    public bool ScaleAttnWeights { get; init; } = true;
    public bool ScaleAttnByInverseLayerIdx { get; init; }
    public bool ReorderAndUpcastAttn { get; init; }
    public bool TieWordEmbeddings { get; init; } = true;
    /// <summary>Dropout on the summed token and position embeddings while training (transformers' default 0.1).</summary>
    public double EmbdPdrop { get; init; } = 0.1;
    /// <summary>Dropout on the attention probabilities while training.</summary>
    public double AttnPdrop { get; init; } = 0.1;
    /// <summary>Dropout on the attention's and the MLP's output projections while training.</summary>
    public double ResidPdrop { get; init; } = 0.1;
    public string ModelType { get; init; } = ModelTypeName;
    public IReadOnlyList<string> Architectures { get; init; } = ["GPT2LMHeadModel"];
    public string TorchDtype { get; init; } = "float32";
    [JsonPropertyName("_name_or_path")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? NameOrPath { get; init; }

    [JsonIgnore] public int Inner => NInner ?? 4 * NEmbd;
    [JsonIgnore] public int HeadDimension => NEmbd / NHead;

    /// <summary>The activations transformers' ACT2FN gives GPT-2 files that this model computes.</summary>
    public static IReadOnlyList<string> Activations { get; } = ["gelu_new", "gelu_pytorch_tanh", "gelu", "relu"];

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    public static Gpt2Config FromJson(string json, string source = FileName)
    {
        Gpt2Config? config;
        try
        {
            config = JsonSerializer.Deserialize<Gpt2Config>(json, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not a GPT-2 config ({e.Message}).", e);
        }
        if (config is null) throw new InvalidDataException($"{source}: empty config.");
        config.Validate(source);
        return config;
    }

    public static Gpt2Config Load(string path) => FromJson(File.ReadAllText(path), path);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public void Validate(string source = FileName)
    {
        var problems = new List<string>();
        if (ModelType != ModelTypeName) problems.Add($"model_type '{ModelType}' is not gpt2");
        if (VocabSize <= 0) problems.Add($"vocab_size {VocabSize} must be positive");
        if (NPositions <= 0) problems.Add($"n_positions {NPositions} must be positive");
        if (NLayer < 0) problems.Add($"n_layer {NLayer} must not be negative");
        if (NHead <= 0 || NEmbd <= 0 || NEmbd % NHead != 0) problems.Add($"n_embd {NEmbd} must be a positive multiple of n_head {NHead}");
        if (!Activations.Contains(ActivationFunction))
            problems.Add($"activation_function '{ActivationFunction}' is not supported ({string.Join(", ", Activations)})");
        if (ReorderAndUpcastAttn) problems.Add("reorder_and_upcast_attn is not supported");
        foreach (var (name, p) in new[] { ("embd_pdrop", EmbdPdrop), ("attn_pdrop", AttnPdrop), ("resid_pdrop", ResidPdrop) })
            if (!(p >= 0 && p < 1)) problems.Add($"{name} {p} must be at least 0 and below 1");
        if (!TieWordEmbeddings) problems.Add("tie_word_embeddings false is not supported (GPT-2 ties lm_head to wte)");
        if (problems.Count > 0) throw new InvalidDataException($"{source}: {string.Join("; ", problems)}.");
    }
}
