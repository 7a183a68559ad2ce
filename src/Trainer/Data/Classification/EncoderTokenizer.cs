using System.Text.Json;
using Microsoft.ML.Tokenizers;
using Orchestrator.Trainer.Data.Text;

namespace Orchestrator.Trainer.Data.Classification;

/// <summary>
/// The tokenizer of a Hugging Face encoder folder, through Microsoft.ML.Tokenizers:
/// <list type="bullet">
/// <item><c>vocab.txt</c> (BERT, DistilBERT, MiniLM, BGE): WordPiece as <see cref="BertTokenizer"/>, with
/// <c>tokenizer_config.json</c>'s do_lower_case (default true), strip_accents (default: as do_lower_case),
/// tokenize_chinese_chars and special tokens ([CLS] text [SEP], padding [PAD]).</item>
/// <item><c>vocab.json</c> + <c>merges.txt</c> (RoBERTa): GPT-2 byte-level BPE (<see cref="TextTokenizer"/>), wrapped
/// as &lt;s&gt; text &lt;/s&gt;, padding &lt;pad&gt;. Without add_prefix_space, as RoBERTa's tokenizer by default.</item>
/// </list>
/// </summary>
public sealed class EncoderTokenizer
{
    public const string ConfigFileName = "tokenizer_config.json";

    private readonly Func<string, int[]> _encode;

    private EncoderTokenizer(Func<string, int[]> encode, int startId, int endId, int padId, string name)
    {
        _encode = encode;
        StartId = startId;
        EndId = endId;
        PadId = padId;
        Name = name;
    }

    /// <summary>[CLS] or &lt;s&gt;.</summary>
    public int StartId { get; }
    /// <summary>[SEP] or &lt;/s&gt;.</summary>
    public int EndId { get; }
    public int PadId { get; }
    public string Name { get; }

    public static EncoderTokenizer Load(string folder)
    {
        var settings = ReadConfig(Path.Combine(folder, ConfigFileName));
        var vocabTxt = Path.Combine(folder, "vocab.txt");
        if (File.Exists(vocabTxt))
        {
            var lower = Bool(settings, "do_lower_case") ?? true;
            var options = new BertOptions
            {
                LowerCaseBeforeTokenization = lower,
                RemoveNonSpacingMarks = Bool(settings, "strip_accents") ?? lower,
                IndividuallyTokenizeCjk = Bool(settings, "tokenize_chinese_chars") ?? true,
                UnknownToken = Text(settings, "unk_token") ?? "[UNK]",
                ClassificationToken = Text(settings, "cls_token") ?? "[CLS]",
                SeparatorToken = Text(settings, "sep_token") ?? "[SEP]",
                PaddingToken = Text(settings, "pad_token") ?? "[PAD]",
                MaskingToken = Text(settings, "mask_token") ?? "[MASK]",
            };
            BertTokenizer bert;
            try
            {
                bert = BertTokenizer.Create(vocabTxt, options);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"'{vocabTxt}' could not be read as a WordPiece vocabulary: {e.Message}", e);
            }
            return new EncoderTokenizer(text => bert.EncodeToIds(text, addSpecialTokens: false).ToArray(),
                bert.ClassificationTokenId, bert.SeparatorTokenId, bert.PaddingTokenId, $"wordpiece:{vocabTxt}{(lower ? " (lower case)" : "")}");
        }
        var vocabJson = Path.Combine(folder, "vocab.json");
        if (File.Exists(vocabJson))
        {
            var bpe = TextTokenizer.Load(vocabJson);
            var vocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabJson))
                ?? throw new InvalidDataException($"'{vocabJson}' is not a JSON object of token ids.");
            int Id(string key, string fallback)
            {
                var token = Text(settings, key) ?? fallback;
                return vocabulary.TryGetValue(token, out var id) ? id
                    : throw new InvalidDataException($"'{vocabJson}' has no {key} '{token}'.");
            }
            return new EncoderTokenizer(bpe.Encode, Id("bos_token", "<s>"), Id("eos_token", "</s>"), Id("pad_token", "<pad>"), $"bpe:{vocabJson}");
        }
        throw new FileNotFoundException($"Encoder folder '{folder}' has no tokenizer: expected vocab.txt (WordPiece) or vocab.json + merges.txt (byte-level BPE).", vocabTxt);
    }

    /// <summary>
    /// Start, the text's ids, end, truncated to <paramref name="maxLength"/> (the text is cut, the special tokens
    /// kept, as transformers' truncation=True), then padded with the pad id; the mask is 1 on tokens, 0 on padding.
    /// </summary>
    public (long[] Ids, long[] Mask) Encode(string text, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        var body = _encode(text);
        var kept = Math.Min(body.Length, maxLength - 2);
        var ids = new long[maxLength];
        var mask = new long[maxLength];
        Array.Fill(ids, PadId);
        ids[0] = StartId;
        for (var i = 0; i < kept; i++) ids[i + 1] = body[i];
        ids[kept + 1] = EndId;
        for (var i = 0; i < kept + 2; i++) mask[i] = 1;
        return (ids, mask);
    }

    private static Dictionary<string, JsonElement> ReadConfig(string path)
    {
        if (!File.Exists(path)) return [];
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone())
                : throw new InvalidDataException($"{path}: expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e);
        }
    }

    private static bool? Bool(Dictionary<string, JsonElement> settings, string key) =>
        settings.TryGetValue(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    // Special tokens are strings, or (older files) objects with a "content" string.
    private static string? Text(Dictionary<string, JsonElement> settings, string key) =>
        !settings.TryGetValue(key, out var v) ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString()
        : v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString()
        : null;
}
