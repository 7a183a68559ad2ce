using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrator.Trials.Models.HuggingFace;

/// <summary>The encoder families whose Hugging Face checkpoints load here, by config.json's model_type.</summary>
public enum EncoderFamily
{
    /// <summary>`bert`: BERT, MiniLM, BGE, Arctic-embed, sentence-transformers exports.</summary>
    Bert,
    DistilBert,
    Roberta,
}

/// <summary>
/// The fields of a BERT, DistilBERT or RoBERTa <c>config.json</c> this model uses, under one set of names
/// (DistilBERT's `dim`, `n_layers`, `hidden_dim`, … read as hidden size, layers, intermediate size), with
/// transformers' defaults for what a file leaves out. <see cref="ToJson"/> writes each family's own keys back.
/// </summary>
public sealed record EncoderConfig
{
    public const string FileName = "config.json";

    public required EncoderFamily Family { get; init; }
    public int VocabSize { get; init; } = 30522;
    public int HiddenSize { get; init; } = 768;
    public int NumHiddenLayers { get; init; } = 12;
    public int NumAttentionHeads { get; init; } = 12;
    public int IntermediateSize { get; init; } = 3072;
    /// <summary>`gelu` (exact, erf), `gelu_new` / `gelu_pytorch_tanh` (tanh approximation) or `relu`.</summary>
    public string HiddenAct { get; init; } = "gelu";
    public int MaxPositionEmbeddings { get; init; } = 512;
    /// <summary>Token-type (segment) vocabulary; 0 for DistilBERT, which has no token-type embeddings.</summary>
    public int TypeVocabSize { get; init; } = 2;
    public double LayerNormEps { get; init; } = 1e-12;
    public double InitializerRange { get; init; } = 0.02;
    public int PadTokenId { get; init; }
    public double HiddenDropout { get; init; } = 0.1;
    public double AttentionDropout { get; init; } = 0.1;
    /// <summary>Dropout before the classifier: classifier_dropout (BERT, RoBERTa; hidden dropout when null) or seq_classif_dropout (DistilBERT).</summary>
    public double ClassifierDropout { get; init; } = 0.1;
    /// <summary>num_labels as the file says it (id2label's size, or num_labels); null when it says nothing.</summary>
    public int? NumLabels { get; init; }
    /// <summary>What the head classifies (not a config.json key): a folder's sentence-transformers pooling, else [CLS].</summary>
    public EncoderPooling Pooling { get; init; } = EncoderPooling.Cls;

    /// <summary>BERT's pooler (dense + tanh on [CLS]) is part of the classifier only when it classifies [CLS].</summary>
    public bool HasPooler => Family == EncoderFamily.Bert && Pooling == EncoderPooling.Cls;

    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>The longest input the position embeddings cover: max_position_embeddings, less RoBERTa's pad_token_id + 1 offset (514 → 512).</summary>
    public int MaxSequenceLength => Family == EncoderFamily.Roberta ? MaxPositionEmbeddings - PadTokenId - 1 : MaxPositionEmbeddings;

    /// <summary>The base model's attribute name in transformers' *ForSequenceClassification: `bert`, `distilbert`, `roberta`.</summary>
    public string Prefix => Family switch
    {
        EncoderFamily.Bert => "bert",
        EncoderFamily.DistilBert => "distilbert",
        _ => "roberta",
    };

    public string ModelType => Prefix;

    /// <summary>PEFT's default LoRA targets for the family (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING).</summary>
    public IReadOnlyList<string> DefaultTargetModules => Family == EncoderFamily.DistilBert ? ["q_lin", "v_lin"] : ["query", "value"];

    /// <summary>True for the model types this loader reads.</summary>
    public static bool IsEncoderType(string? modelType) => modelType is "bert" or "distilbert" or "roberta";

    /// <summary>The model_type of a folder's config.json, or null when there is none or it cannot be read.</summary>
    public static string? ModelTypeOf(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            return document.RootElement.TryGetProperty("model_type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>True when <paramref name="model"/> is a folder whose config.json names an encoder model_type.</summary>
    public static bool IsEncoderFolder(string model) => Directory.Exists(model) && IsEncoderType(ModelTypeOf(model));

    /// <summary>A folder's config.json, with the pooling its sentence-transformers files declare (<see cref="EncoderPoolings.OfFolder"/>).</summary>
    public static EncoderConfig Load(string path) =>
        FromJson(File.ReadAllText(path), path) with { Pooling = EncoderPoolings.OfFolder(Path.GetDirectoryName(Path.GetFullPath(path))!) };

    /// <summary>
    /// The encoder <paramref name="model"/> is, known without weights: a named encoder's shape, or a local Hugging Face
    /// encoder folder's config.json; null for other models and folders not on this machine. <paramref name="pooling"/>
    /// (a config's `pooling`) overrides the model's own.
    /// </summary>
    public static EncoderConfig? Of(string model, EncoderPooling? pooling = null)
    {
        EncoderConfig? config = null;
        if (Named.NamedEncoders.Find(model) is { } named) config = named.Config;
        else if (IsEncoderFolder(model))
        {
            try { config = Load(Path.Combine(model, FileName)); }
            catch (Exception e) when (e is IOException or JsonException or InvalidDataException or UnauthorizedAccessException) { return null; }
        }
        return config is null || pooling is not { } chosen ? config : config with { Pooling = chosen };
    }

    public static EncoderConfig FromJson(string json, string source = FileName)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{source}: expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON ({e.Message}).", e);
        }
        var type = Text(root, "model_type");
        var family = type switch
        {
            "bert" => EncoderFamily.Bert,
            "distilbert" => EncoderFamily.DistilBert,
            "roberta" => EncoderFamily.Roberta,
            _ => throw new InvalidDataException($"{source}: model_type '{type}' is not an encoder this loader reads (bert, distilbert, roberta)."),
        };
        int? labels = root["id2label"] is JsonObject id2label ? id2label.Count : Int(root, "num_labels");
        EncoderConfig config;
        if (family == EncoderFamily.DistilBert)
        {
            if (Bool(root, "sinusoidal_pos_embds") == true)
                throw new InvalidDataException($"{source}: sinusoidal_pos_embds is not supported (learned position embeddings only).");
            config = new EncoderConfig
            {
                Family = family,
                VocabSize = Int(root, "vocab_size") ?? 30522,
                HiddenSize = Int(root, "dim") ?? 768,
                NumHiddenLayers = Int(root, "n_layers") ?? 6,
                NumAttentionHeads = Int(root, "n_heads") ?? 12,
                IntermediateSize = Int(root, "hidden_dim") ?? 3072,
                HiddenAct = Text(root, "activation") ?? "gelu",
                MaxPositionEmbeddings = Int(root, "max_position_embeddings") ?? 512,
                TypeVocabSize = 0,
                LayerNormEps = 1e-12, // transformers' DistilBERT hard-codes it
                InitializerRange = Number(root, "initializer_range") ?? 0.02,
                PadTokenId = Int(root, "pad_token_id") ?? 0,
                HiddenDropout = Number(root, "dropout") ?? 0.1,
                AttentionDropout = Number(root, "attention_dropout") ?? 0.1,
                ClassifierDropout = Number(root, "seq_classif_dropout") ?? 0.2,
                NumLabels = labels,
            };
        }
        else
        {
            var roberta = family == EncoderFamily.Roberta;
            var hiddenDropout = Number(root, "hidden_dropout_prob") ?? 0.1;
            config = new EncoderConfig
            {
                Family = family,
                VocabSize = Int(root, "vocab_size") ?? (roberta ? 50265 : 30522),
                HiddenSize = Int(root, "hidden_size") ?? 768,
                NumHiddenLayers = Int(root, "num_hidden_layers") ?? 12,
                NumAttentionHeads = Int(root, "num_attention_heads") ?? 12,
                IntermediateSize = Int(root, "intermediate_size") ?? 3072,
                HiddenAct = Text(root, "hidden_act") ?? "gelu",
                MaxPositionEmbeddings = Int(root, "max_position_embeddings") ?? 512,
                TypeVocabSize = Int(root, "type_vocab_size") ?? 2,
                LayerNormEps = Number(root, "layer_norm_eps") ?? 1e-12,
                InitializerRange = Number(root, "initializer_range") ?? 0.02,
                PadTokenId = Int(root, "pad_token_id") ?? (roberta ? 1 : 0),
                HiddenDropout = hiddenDropout,
                AttentionDropout = Number(root, "attention_probs_dropout_prob") ?? 0.1,
                ClassifierDropout = Number(root, "classifier_dropout") ?? hiddenDropout,
                NumLabels = labels,
            };
            if (Text(root, "position_embedding_type") is { } positions && positions != "absolute")
                throw new InvalidDataException($"{source}: position_embedding_type '{positions}' is not supported (absolute only).");
        }
        config.Validate(source);
        return config;
    }

    public void Validate(string source = FileName)
    {
        var problems = new List<string>();
        if (VocabSize <= 0) problems.Add($"vocab_size {VocabSize} must be positive");
        if (HiddenSize <= 0) problems.Add($"hidden size {HiddenSize} must be positive");
        if (NumHiddenLayers < 0) problems.Add($"layers {NumHiddenLayers} must not be negative");
        if (NumAttentionHeads <= 0 || HiddenSize % NumAttentionHeads != 0)
            problems.Add($"hidden size {HiddenSize} is not a multiple of the attention heads {NumAttentionHeads}");
        if (IntermediateSize <= 0) problems.Add($"intermediate size {IntermediateSize} must be positive");
        if (HiddenAct is not ("gelu" or "gelu_new" or "gelu_pytorch_tanh" or "relu"))
            problems.Add($"activation '{HiddenAct}' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)");
        if (PadTokenId < 0 || PadTokenId >= VocabSize) problems.Add($"pad_token_id {PadTokenId} is outside the vocabulary");
        if (Family == EncoderFamily.Roberta && MaxPositionEmbeddings <= PadTokenId + 1)
            problems.Add($"max_position_embeddings {MaxPositionEmbeddings} leaves no positions after RoBERTa's offset pad_token_id + 1");
        foreach (var (name, p) in new[] { ("hidden dropout", HiddenDropout), ("attention dropout", AttentionDropout), ("classifier dropout", ClassifierDropout) })
            if (p is < 0 or >= 1) problems.Add($"{name} {p} must be in [0, 1)");
        if (problems.Count > 0) throw new InvalidDataException($"{source}: {string.Join("; ", problems)}.");
    }

    /// <summary>The family's own config.json (the keys transformers writes for it), with <paramref name="numLabels"/> as id2label.</summary>
    public string ToJson(int? numLabels = null)
    {
        var labels = numLabels ?? NumLabels;
        var root = new JsonObject { ["model_type"] = ModelType };
        if (Family == EncoderFamily.DistilBert)
        {
            root["architectures"] = new JsonArray("DistilBertForSequenceClassification");
            root["vocab_size"] = VocabSize;
            root["dim"] = HiddenSize;
            root["n_layers"] = NumHiddenLayers;
            root["n_heads"] = NumAttentionHeads;
            root["hidden_dim"] = IntermediateSize;
            root["activation"] = HiddenAct;
            root["max_position_embeddings"] = MaxPositionEmbeddings;
            root["initializer_range"] = InitializerRange;
            root["pad_token_id"] = PadTokenId;
            root["dropout"] = HiddenDropout;
            root["attention_dropout"] = AttentionDropout;
            root["seq_classif_dropout"] = ClassifierDropout;
            root["sinusoidal_pos_embds"] = false;
        }
        else
        {
            root["architectures"] = new JsonArray(Family == EncoderFamily.Bert ? "BertForSequenceClassification" : "RobertaForSequenceClassification");
            root["vocab_size"] = VocabSize;
            root["hidden_size"] = HiddenSize;
            root["num_hidden_layers"] = NumHiddenLayers;
            root["num_attention_heads"] = NumAttentionHeads;
            root["intermediate_size"] = IntermediateSize;
            root["hidden_act"] = HiddenAct;
            root["max_position_embeddings"] = MaxPositionEmbeddings;
            root["type_vocab_size"] = TypeVocabSize;
            root["layer_norm_eps"] = LayerNormEps;
            root["initializer_range"] = InitializerRange;
            root["pad_token_id"] = PadTokenId;
            root["hidden_dropout_prob"] = HiddenDropout;
            root["attention_probs_dropout_prob"] = AttentionDropout;
            root["classifier_dropout"] = ClassifierDropout;
            root["position_embedding_type"] = "absolute";
        }
        if (labels is { } n)
        {
            var id2label = new JsonObject();
            var label2id = new JsonObject();
            for (var i = 0; i < n; i++)
            {
                id2label[i.ToString(CultureInfo.InvariantCulture)] = $"LABEL_{i}";
                label2id[$"LABEL_{i}"] = i;
            }
            root["id2label"] = id2label;
            root["label2id"] = label2id;
        }
        root["torch_dtype"] = "float32";
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>
    /// Every linear module of the sequence classifier with its (in, out) features, in model order, known from the config
    /// alone (no weights): the paths LoRA targets match, and what a count of its parameters needs.
    /// </summary>
    public IReadOnlyList<(string Path, long In, long Out)> LinearModules(int numLabels)
    {
        var list = new List<(string, long, long)>();
        long h = HiddenSize, i = IntermediateSize;
        for (var layer = 0; layer < NumHiddenLayers; layer++)
        {
            if (Family == EncoderFamily.DistilBert)
            {
                var at = $"distilbert.transformer.layer.{layer}";
                list.Add(($"{at}.attention.q_lin", h, h));
                list.Add(($"{at}.attention.k_lin", h, h));
                list.Add(($"{at}.attention.v_lin", h, h));
                list.Add(($"{at}.attention.out_lin", h, h));
                list.Add(($"{at}.ffn.lin1", h, i));
                list.Add(($"{at}.ffn.lin2", i, h));
            }
            else
            {
                var at = $"{Prefix}.encoder.layer.{layer}";
                list.Add(($"{at}.attention.self.query", h, h));
                list.Add(($"{at}.attention.self.key", h, h));
                list.Add(($"{at}.attention.self.value", h, h));
                list.Add(($"{at}.attention.output.dense", h, h));
                list.Add(($"{at}.intermediate.dense", h, i));
                list.Add(($"{at}.output.dense", i, h));
            }
        }
        switch (Family)
        {
            case EncoderFamily.Bert:
                if (HasPooler) list.Add(("bert.pooler.dense", h, h));
                list.Add(("classifier", h, numLabels));
                break;
            case EncoderFamily.DistilBert:
                list.Add(("pre_classifier", h, h));
                list.Add(("classifier", h, numLabels));
                break;
            default:
                list.Add(("classifier.dense", h, h));
                list.Add(("classifier.out_proj", h, numLabels));
                break;
        }
        return list;
    }

    /// <summary>Every parameter of the sequence classifier, counted from the config: embeddings, layers, pooler and head.</summary>
    public long ParameterCount(int numLabels)
    {
        long h = HiddenSize;
        var linears = LinearModules(numLabels).Sum(l => l.In * l.Out + l.Out);
        var layerNorms = 2 * h * (1 + 2L * NumHiddenLayers); // the embeddings' and two per layer, weight and bias
        var embeddings = (long)VocabSize * h + (long)MaxPositionEmbeddings * h + (long)TypeVocabSize * h;
        return linears + layerNorms + embeddings;
    }

    /// <summary>Parameters of the head (<see cref="HeadModules"/>), which train in every adapter mode.</summary>
    public long HeadParameterCount(int numLabels) =>
        LinearModules(numLabels).Where(l => HeadModules.Any(m => l.Path == m || l.Path.StartsWith(m + ".", StringComparison.Ordinal)))
            .Sum(l => l.In * l.Out + l.Out);

    /// <summary>The modules a classification fine-tune trains in full (PEFT's modules_to_save): the head, never a LoRA target.</summary>
    public IReadOnlyList<string> HeadModules => Family == EncoderFamily.DistilBert ? ["pre_classifier", "classifier"] : ["classifier"];

    private static string? Text(JsonObject root, string key) =>
        root[key] is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    private static int? Int(JsonObject root, string key) =>
        root[key] is JsonValue v && v.TryGetValue(out int i) ? i : root[key] is JsonValue d && d.TryGetValue(out double x) && x == Math.Floor(x) ? (int)x : null;

    private static double? Number(JsonObject root, string key) =>
        root[key] is JsonValue v && v.TryGetValue(out double d) ? d : root[key] is JsonValue i && i.TryGetValue(out long l) ? l : null;

    private static bool? Bool(JsonObject root, string key) =>
        root[key] is JsonValue v && v.TryGetValue(out bool b) ? b : null;
}
