using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Orchestrator.Trainer.Data.Text;

/// <summary>
/// Text to token ids for the `text` dataset. Byte-level (ids 0–255 are UTF-8 bytes, 256 is end-of-text) unless a
/// tokenizer file is given; files are read with Microsoft.ML.Tokenizers:
/// <list type="bullet">
/// <item><c>*.model</c>: a SentencePiece model (Llama 1/2, TinyLlama, Mistral) as <see cref="LlamaTokenizer"/>.</item>
/// <item><c>tokenizer.json</c> with a BPE model, or <c>vocab.json</c> next to <c>merges.txt</c>: GPT-2-style byte-level BPE
/// (<see cref="CodeGenTokenizer"/>; its pre-tokenizer is GPT-2's, so Llama 3's differently split numbers may tokenize differently).</item>
/// <item><c>*.tiktoken</c>: a tiktoken rank file; the pattern follows the file name (o200k → gpt-4o, otherwise cl100k/gpt-4).</item>
/// </list>
/// The end-of-text id is the tokenizer's own when it has one, otherwise one past its vocabulary.
/// </summary>
public sealed class TextTokenizer
{
    public const int ByteVocabSize = 257;
    public const int ByteEos = 256;

    private readonly Tokenizer? _tokenizer;

    private TextTokenizer(Tokenizer? tokenizer, int vocabSize, int eosId, string name)
    {
        _tokenizer = tokenizer;
        VocabSize = vocabSize;
        EosId = eosId;
        Name = name;
    }

    /// <summary>Ids run from 0 to VocabSize - 1, end-of-text included.</summary>
    public int VocabSize { get; }
    public int EosId { get; }
    public string Name { get; }

    public static TextTokenizer ByteLevel { get; } = new(null, ByteVocabSize, ByteEos, "byte-level");

    public static TextTokenizer Load(string? path)
    {
        if (string.IsNullOrEmpty(path)) return ByteLevel;
        if (!File.Exists(path)) throw new FileNotFoundException($"Tokenizer file '{path}' does not exist.", path);
        var fileName = Path.GetFileName(path);
        try
        {
            if (fileName.EndsWith(".model", StringComparison.OrdinalIgnoreCase))
            {
                using var stream = File.OpenRead(path);
                var sentencePiece = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
                return new TextTokenizer(sentencePiece, VocabSizeOf(sentencePiece.Vocabulary.Values, sentencePiece.SpecialTokens), sentencePiece.EndOfSentenceId, $"sentencepiece:{fileName}");
            }
            if (fileName.EndsWith(".tiktoken", StringComparison.OrdinalIgnoreCase)) return LoadTiktoken(path);
            if (fileName.Equals("vocab.json", StringComparison.OrdinalIgnoreCase))
            {
                var merges = Path.Combine(Path.GetDirectoryName(path) ?? ".", "merges.txt");
                if (!File.Exists(merges)) throw new FileNotFoundException($"'{path}' needs merges.txt beside it.", merges);
                using var vocabStream = File.OpenRead(path);
                using var mergesStream = File.OpenRead(merges);
                return ByteLevelBpe(vocabStream, mergesStream, extraTokens: null, $"bpe:{fileName}");
            }
            if (fileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return LoadHuggingFaceJson(path);
        }
        catch (Exception e) when (e is not (FileNotFoundException or InvalidDataException))
        {
            throw new InvalidDataException($"Tokenizer file '{path}' could not be read: {e.Message}", e);
        }
        throw new InvalidDataException($"Tokenizer file '{path}' is of no known kind: expected a SentencePiece *.model, tokenizer.json, vocab.json (+ merges.txt) or *.tiktoken.");
    }

    public int[] Encode(string text) => _tokenizer is null
        ? Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray()
        : _tokenizer.EncodeToIds(text).ToArray();

    /// <summary>Text of the ids, end-of-text ids left out.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var kept = ids.Where(id => id != EosId);
        return _tokenizer is null
            ? Encoding.UTF8.GetString(kept.Select(id => (byte)id).ToArray())
            : _tokenizer.Decode(kept) ?? "";
    }

    private static TextTokenizer LoadHuggingFaceJson(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = document.RootElement;
        if (!root.TryGetProperty("model", out var model) || !model.TryGetProperty("type", out var type) || type.GetString() != "BPE")
        {
            throw new InvalidDataException($"Tokenizer file '{path}' is not a Hugging Face tokenizer.json with a BPE model.");
        }
        var merges = new StringBuilder("#version: 0.2\n");
        foreach (var merge in model.GetProperty("merges").EnumerateArray())
        {
            merges.Append(merge.ValueKind == JsonValueKind.Array
                ? string.Join(' ', merge.EnumerateArray().Select(part => part.GetString()))
                : merge.GetString()).Append('\n');
        }
        var added = new Dictionary<string, int>();
        if (root.TryGetProperty("added_tokens", out var addedTokens))
        {
            foreach (var token in addedTokens.EnumerateArray())
                added[token.GetProperty("content").GetString()!] = token.GetProperty("id").GetInt32();
        }
        using var vocabStream = new MemoryStream(Encoding.UTF8.GetBytes(model.GetProperty("vocab").GetRawText()));
        using var mergesStream = new MemoryStream(Encoding.UTF8.GetBytes(merges.ToString()));
        return ByteLevelBpe(vocabStream, mergesStream, added, $"bpe:{Path.GetFileName(path)}");
    }

    // CodeGenTokenizer did not find `<|endoftext|>` written with the default escaping (\u003C…); keys go unescaped.
    private static readonly JsonSerializerOptions RawJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] EosCandidates = ["<|endoftext|>", "<|end_of_text|>", "</s>", "<|eot_id|>", "<eos>"];

    private static TextTokenizer ByteLevelBpe(Stream vocab, Stream merges, IReadOnlyDictionary<string, int>? extraTokens, string name)
    {
        var all = JsonSerializer.Deserialize<Dictionary<string, int>>(vocab)
            ?? throw new InvalidDataException($"{name}: the vocabulary is not a JSON object of token ids.");
        foreach (var (token, id) in extraTokens ?? new Dictionary<string, int>()) all[token] = id;
        var eos = EosCandidates.Select(c => all.TryGetValue(c, out var id) ? id : (int?)null).FirstOrDefault(id => id is not null);
        // CodeGenTokenizer insists on <|endoftext|> (its unknown token); a vocabulary without one gets it one past its end.
        if (!all.ContainsKey(EosCandidates[0])) all[EosCandidates[0]] = VocabSizeOf(all.Values, null);
        using var vocabStream = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(all, RawJson));
        var bpe = CodeGenTokenizer.Create(vocabStream, merges, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false);
        return new TextTokenizer(bpe, VocabSizeOf(all.Values, null), eos ?? all[EosCandidates[0]], name);
    }

    private static TextTokenizer LoadTiktoken(string path)
    {
        var maxRank = -1;
        foreach (var line in File.ReadLines(path))
        {
            var space = line.LastIndexOf(' ');
            if (space > 0 && int.TryParse(line.AsSpan(space + 1), out var rank)) maxRank = Math.Max(maxRank, rank);
        }
        var model = Path.GetFileName(path).Contains("o200k", StringComparison.OrdinalIgnoreCase) ? "gpt-4o" : "gpt-4";
        using var stream = File.OpenRead(path);
        var tiktoken = TiktokenTokenizer.CreateForModel(model, stream);
        var size = Math.Max(maxRank + 1, VocabSizeOf([], tiktoken.SpecialTokens));
        var eos = tiktoken.SpecialTokens is { } specials && specials.TryGetValue("<|endoftext|>", out var id) ? id : (int?)null;
        return eos is { } known ? new TextTokenizer(tiktoken, size, known, $"tiktoken:{Path.GetFileName(path)}") : new TextTokenizer(tiktoken, size + 1, size, $"tiktoken:{Path.GetFileName(path)}");
    }

    private static int VocabSizeOf(IEnumerable<int> ids, IReadOnlyDictionary<string, int>? specials) =>
        ids.Concat(specials?.Values ?? []).DefaultIfEmpty(-1).Max() + 1;
}
