using System.Text.Json;
using System.Text.Json.Serialization;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Trials.Models.HuggingFace;

/// <summary>
/// What the classification head reads from the encoder's last hidden states. <see cref="Cls"/> is transformers'
/// *ForSequenceClassification (the first token, through BERT's pooler); <see cref="Mean"/> is sentence-transformers'
/// mean pooling (the attention-masked mean over tokens), what embedding models such as all-MiniLM-L6-v2 were trained
/// to summarise a text with, whose [CLS] state and pooler were never trained as a summary.
/// </summary>
[JsonConverter(typeof(ConfigEnumConverter<EncoderPooling>))]
public enum EncoderPooling
{
    [JsonStringEnumMemberName("cls")] Cls,
    [JsonStringEnumMemberName("mean")] Mean,
}

/// <summary>A sentence-transformers folder's own choice of <see cref="EncoderPooling"/>, read and written.</summary>
public static class EncoderPoolings
{
    /// <summary>sentence-transformers' pooling config, beside config.json in a model folder it saved.</summary>
    public const string SentenceTransformersFile = "1_Pooling/config.json";

    /// <summary>
    /// The pooling a model folder declares: mean when its sentence-transformers <c>1_Pooling/config.json</c> says
    /// <c>pooling_mode_mean_tokens</c> (and not cls_token), otherwise [CLS] as transformers classifies.
    /// </summary>
    public static EncoderPooling OfFolder(string folder)
    {
        var path = Path.Combine(folder, SentenceTransformersFile);
        if (!File.Exists(path)) return EncoderPooling.Cls;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            bool Flag(string key) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.True;
            return Flag("pooling_mode_mean_tokens") && !Flag("pooling_mode_cls_token") ? EncoderPooling.Mean : EncoderPooling.Cls;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e);
        }
    }

    /// <summary>sentence-transformers' <c>1_Pooling/config.json</c> for <paramref name="pooling"/>.</summary>
    public static string SentenceTransformersConfig(EncoderPooling pooling, int hiddenSize) =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["word_embedding_dimension"] = hiddenSize,
            ["pooling_mode_cls_token"] = pooling == EncoderPooling.Cls,
            ["pooling_mode_mean_tokens"] = pooling == EncoderPooling.Mean,
            ["pooling_mode_max_tokens"] = false,
            ["pooling_mode_mean_sqrt_len_tokens"] = false,
        }, new JsonSerializerOptions { WriteIndented = true }) + "\n";
}
