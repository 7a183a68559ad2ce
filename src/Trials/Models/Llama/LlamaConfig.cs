using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Trials.Models.Llama;

/// <summary>
/// The fields of a Hugging Face Llama-family <c>config.json</c> this model uses, with transformers' defaults for the
/// ones a file may leave out. Unknown keys are ignored on read. Mistral, Qwen2 and Qwen3 are the same decoder with
/// switches (<see cref="RotaryDecoderTypes"/>): a sliding attention window, q/k/v biases, per-head q/k RMS norms.
/// </summary>
public sealed record LlamaConfig
{
    public const string FileName = "config.json";
    /// <summary>The byte-level tokenizer's vocabulary (256 bytes + end-of-text), the text corpus's default.</summary>
    public const int ByteVocabSize = 257;

    /// <summary>
    /// The built-in `llama` when no checkpoint is given (pretrained here on the text dataset, like the other built-ins):
    /// hidden 64, 2 layers, 4 attention heads over 2 key/value heads (grouped-query attention, head dim 16),
    /// intermediate 172 (≈ 8/3 × hidden, Llama's ratio), RoPE up to 512 positions, untied head; about 0.1 M
    /// parameters, so it pretrains on a CPU in seconds. <paramref name="vocabSize"/> is the dataset's vocabulary.
    /// </summary>
    public static LlamaConfig Tiny(int vocabSize = ByteVocabSize) => new()
    {
        VocabSize = vocabSize, HiddenSize = 64, IntermediateSize = 172, NumHiddenLayers = 2, NumAttentionHeads = 4,
        NumKeyValueHeads = 2, MaxPositionEmbeddings = 512,
    };

    public int VocabSize { get; init; } = 32000;
    public int HiddenSize { get; init; } = 4096;
    public int IntermediateSize { get; init; } = 11008;
    public int NumHiddenLayers { get; init; } = 32;
    public int NumAttentionHeads { get; init; } = 32;
    /// <summary>Null in a file means as many as <see cref="NumAttentionHeads"/> (no grouping).</summary>
    public int? NumKeyValueHeads { get; init; }
    /// <summary>Null means <see cref="HiddenSize"/> / <see cref="NumAttentionHeads"/>.</summary>
    public int? HeadDim { get; init; }
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000;
    public LlamaRopeScaling? RopeScaling { get; init; }
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public bool TieWordEmbeddings { get; init; }
    public double InitializerRange { get; init; } = 0.02;
    public bool AttentionBias { get; init; }
    public bool MlpBias { get; init; }
    public string HiddenAct { get; init; } = "silu";
    public string ModelType { get; init; } = "llama";
    public IReadOnlyList<string> Architectures { get; init; } = ["LlamaForCausalLM"];
    public string TorchDtype { get; init; } = "float32";

    // Mistral / Qwen2 / Qwen3 (left out of JSON at their defaults, so the built-in llama's config and hash stay as they were).
    /// <summary>Mistral: every layer attends to at most this many tokens back (null: no window). Qwen: only with <see cref="UseSlidingWindow"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? SlidingWindow { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool UseSlidingWindow { get; init; }
    /// <summary>Qwen: layers below this index attend in full even with <see cref="UseSlidingWindow"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? MaxWindowLayers { get; init; }
    /// <summary>The Hub id the folder was saved from (transformers writes it as <c>_name_or_path</c>).</summary>
    [JsonPropertyName("_name_or_path")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? NameOrPath { get; init; }

    /// <summary>Qwen2 always has biases on q, k and v (not o); <see cref="AttentionBias"/> puts them on all four, as Llama.</summary>
    [JsonIgnore] public bool QkvBias => AttentionBias || ModelType == RotaryDecoderTypes.Qwen2;
    /// <summary>Qwen3 RMS-normalises each head of q and k before the rotation.</summary>
    [JsonIgnore] public bool QkNorm => ModelType == RotaryDecoderTypes.Qwen3;

    /// <summary>The attention window of layer <paramref name="layer"/>, null when it attends to every earlier token.</summary>
    public int? SlidingWindowOf(int layer) => ModelType switch
    {
        RotaryDecoderTypes.Mistral => SlidingWindow,
        RotaryDecoderTypes.Qwen2 or RotaryDecoderTypes.Qwen3 when UseSlidingWindow && layer >= (MaxWindowLayers ?? 28) => SlidingWindow,
        _ => null,
    };

    [JsonIgnore] public int KeyValueHeads => NumKeyValueHeads ?? NumAttentionHeads;
    [JsonIgnore] public int HeadDimension => HeadDim ?? HiddenSize / NumAttentionHeads;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    public static LlamaConfig FromJson(string json, string source = FileName)
    {
        LlamaConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<LlamaConfig>(json, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not a Llama config ({e.Message}).", e);
        }
        if (config is null) throw new InvalidDataException($"{source}: empty config.");
        config.Validate(source);
        return config;
    }

    public static LlamaConfig Load(string path) => FromJson(File.ReadAllText(path), path);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public void Validate(string source = FileName)
    {
        var problems = new List<string>();
        if (VocabSize <= 0) problems.Add($"vocab_size {VocabSize} must be positive");
        if (HiddenSize <= 0) problems.Add($"hidden_size {HiddenSize} must be positive");
        if (IntermediateSize <= 0) problems.Add($"intermediate_size {IntermediateSize} must be positive");
        if (NumHiddenLayers < 0) problems.Add($"num_hidden_layers {NumHiddenLayers} must not be negative");
        if (NumAttentionHeads <= 0) problems.Add($"num_attention_heads {NumAttentionHeads} must be positive");
        else
        {
            if (HeadDim is null && HiddenSize % NumAttentionHeads != 0)
                problems.Add($"hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}");
            if (KeyValueHeads <= 0 || NumAttentionHeads % KeyValueHeads != 0)
                problems.Add($"num_attention_heads {NumAttentionHeads} is not a multiple of num_key_value_heads {KeyValueHeads}");
            if (HeadDimension % 2 != 0) problems.Add($"head dimension {HeadDimension} must be even for rotary embeddings");
        }
        if (HiddenAct != "silu") problems.Add($"hidden_act '{HiddenAct}' is not supported (only silu)");
        if (!RotaryDecoderTypes.All.Contains(ModelType))
            problems.Add($"model_type '{ModelType}' is not a rotary decoder ({string.Join(", ", RotaryDecoderTypes.All)})");
        if (RopeScaling is { } scaling)
        {
            if (!LlamaRopeScaling.Types.Contains(scaling.Type ?? "default"))
                problems.Add($"rope_scaling type '{scaling.Type}' is not supported (supported: {string.Join(", ", LlamaRopeScaling.Types)})");
            else if (scaling.Type is "linear" or "dynamic" or "llama3" && scaling.Factor <= 0)
                problems.Add($"rope_scaling factor {scaling.Factor} must be positive");
        }
        if (SlidingWindow is <= 0) problems.Add($"sliding_window {SlidingWindow} must be positive (or null for none)");
        if (problems.Count > 0) throw new InvalidDataException($"{source}: {string.Join("; ", problems)}.");
    }
}

/// <summary>HF's rope_scaling block: `linear` (positions / factor), `dynamic` (NTK: a larger base past max_position_embeddings), `llama3` (Llama 3.1+).</summary>
public sealed record LlamaRopeScaling
{
    /// <summary>The rope types transformers' ROPE_INIT_FUNCTIONS has that this model computes.</summary>
    public static IReadOnlyList<string> Types { get; } = ["default", "linear", "dynamic", "llama3"];

    public string? RopeType { get; init; }
    /// <summary>Older files spell rope_type as `type`.</summary>
    [JsonPropertyName("type")] public string? LegacyType { get; init; }
    public double Factor { get; init; } = 1;
    public double LowFreqFactor { get; init; } = 1;
    public double HighFreqFactor { get; init; } = 4;
    public int OriginalMaxPositionEmbeddings { get; init; } = 8192;

    [JsonIgnore] public string? Type => RopeType ?? LegacyType;
}
