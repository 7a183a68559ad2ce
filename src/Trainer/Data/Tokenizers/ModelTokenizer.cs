using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using Orchestrator.Trainer.Data.ChatTemplates;

namespace Orchestrator.Trainer.Data.Tokenizers;

/// <summary>
/// The tokenizer of a Hugging Face model folder, read with Microsoft.ML.Tokenizers, and what transformers reads beside
/// it: <c>tokenizer.json</c> with a BPE model (byte-level, as GPT-2, Llama 3 and Qwen: its Split pre-tokenizer pattern,
/// or GPT-2's, and its added tokens, each encoded as one id), else a SentencePiece <c>tokenizer.model</c> (Llama 1/2,
/// Mistral); BOS/EOS/PAD/UNK from <c>tokenizer_config.json</c> (or <c>special_tokens_map.json</c>);
/// <c>add_bos_token</c> / <c>add_eos_token</c> from tokenizer_config.json, else what tokenizer.json's TemplateProcessing
/// post-processor adds, else SentencePiece's BOS (LlamaTokenizer's default); and the <c>chat_template</c>.
/// </summary>
public sealed class ModelTokenizer
{
    public const string TokenizerJson = "tokenizer.json";
    public const string SentencePieceModel = "tokenizer.model";
    public const string ConfigFile = "tokenizer_config.json";
    public const string SpecialTokensMapFile = "special_tokens_map.json";

    private readonly Tokenizer _tokenizer;
    private readonly HashSet<int> _specialIds;

    private ModelTokenizer(Tokenizer tokenizer, string folder, int vocabSize, IReadOnlyDictionary<string, int> specialTokens, IReadOnlyDictionary<string, string> specialTokenNames,
        bool addBos, bool addEos, string? chatTemplate)
    {
        _tokenizer = tokenizer;
        Folder = folder;
        VocabSize = vocabSize;
        SpecialTokens = specialTokens;
        SpecialTokenNames = specialTokenNames;
        AddBos = addBos;
        AddEos = addEos;
        ChatTemplateSource = chatTemplate;
        _specialIds = [.. specialTokens.Values];
        BosId = Id("bos_token");
        EosId = Id("eos_token");
        PadId = Id("pad_token");
    }

    public string Folder { get; }
    /// <summary>One past the largest id the tokenizer can produce.</summary>
    public int VocabSize { get; }
    /// <summary>Added / special tokens by text, each encoded as a single id wherever it appears in a text.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }
    /// <summary>bos_token, eos_token, pad_token, unk_token → their text, as transformers passes them to chat templates.</summary>
    public IReadOnlyDictionary<string, string> SpecialTokenNames { get; }
    public bool AddBos { get; }
    public bool AddEos { get; }
    public int? BosId { get; }
    public int? EosId { get; }
    /// <summary>The pad token's id; padded positions are masked, so any id serves when the folder names none (EOS, as TRL does).</summary>
    public int? PadId { get; }
    public string? ChatTemplateSource { get; }

    public static bool IsTokenizerFolder(string folder) =>
        File.Exists(Path.Combine(folder, TokenizerJson)) || File.Exists(Path.Combine(folder, SentencePieceModel));

    /// <exception cref="InvalidDataException">No tokenizer in the folder, or one of a kind this cannot read.</exception>
    public static ModelTokenizer Load(string folder)
    {
        var config = ReadJson(Path.Combine(folder, ConfigFile));
        var specialMap = ReadJson(Path.Combine(folder, SpecialTokensMapFile));
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in new[] { "bos_token", "eos_token", "unk_token", "pad_token" })
        {
            var text = TokenText(config, name) ?? TokenText(specialMap, name);
            if (text is not null) names[name] = text;
        }
        var chatTemplate = ChatTemplateOf(config);
        bool? addBos = Bool(config, "add_bos_token"), addEos = Bool(config, "add_eos_token");

        var jsonPath = Path.Combine(folder, TokenizerJson);
        var modelPath = Path.Combine(folder, SentencePieceModel);
        try
        {
            // A SentencePiece model wins when both are there (Llama 2, Mistral): their tokenizer.json is not byte-level BPE.
            if (File.Exists(jsonPath) && !File.Exists(modelPath)) return FromTokenizerJson(folder, jsonPath, names, addBos, addEos, chatTemplate);
            if (File.Exists(modelPath))
            {
                var added = AddedTokens(config);
                using var stream = File.OpenRead(modelPath);
                var sentencePiece = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false, specialTokens: added.Count > 0 ? added : null);
                var specials = new Dictionary<string, int>(added, StringComparer.Ordinal);
                foreach (var (text, id) in sentencePiece.SpecialTokens ?? new Dictionary<string, int>()) specials.TryAdd(text, id);
                specials.TryAdd(sentencePiece.BeginningOfSentenceToken, sentencePiece.BeginningOfSentenceId);
                specials.TryAdd(sentencePiece.EndOfSentenceToken, sentencePiece.EndOfSentenceId);
                names.TryAdd("bos_token", sentencePiece.BeginningOfSentenceToken);
                names.TryAdd("eos_token", sentencePiece.EndOfSentenceToken);
                var size = Math.Max(sentencePiece.Vocabulary.Values.DefaultIfEmpty(-1).Max(), specials.Values.DefaultIfEmpty(-1).Max()) + 1;
                return new ModelTokenizer(sentencePiece, folder, size, specials, names, addBos ?? true, addEos ?? false, chatTemplate);
            }
        }
        catch (Exception e) when (e is not InvalidDataException)
        {
            throw new InvalidDataException($"the tokenizer of '{folder}' could not be read: {e.Message}", e);
        }
        throw new InvalidDataException($"'{folder}' has no tokenizer: expected {TokenizerJson} (a BPE model) or a SentencePiece {SentencePieceModel}");
    }

    private static ModelTokenizer FromTokenizerJson(string folder, string path, Dictionary<string, string> names, bool? addBos, bool? addEos, string? chatTemplate)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = document.RootElement;
        var model = root.GetProperty("model");
        var type = model.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type != "BPE")
            throw new InvalidDataException($"'{path}' holds a {type ?? "model of no type"} tokenizer; this reads BPE tokenizer.json files (byte-level, as GPT-2, Llama 3, Qwen) and SentencePiece tokenizer.model files");
        var vocab = model.GetProperty("vocab").EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.GetInt32())).ToList();
        var merges = model.GetProperty("merges").EnumerateArray()
            .Select(m => m.ValueKind == JsonValueKind.Array ? string.Join(' ', m.EnumerateArray().Select(x => x.GetString())) : m.GetString()!)
            .ToList();
        var specials = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root.TryGetProperty("added_tokens", out var added))
        {
            foreach (var token in added.EnumerateArray()) specials[token.GetProperty("content").GetString()!] = token.GetProperty("id").GetInt32();
        }
        var pattern = SplitPattern(root) ?? Gpt2Pattern;
        var byteLevel = ContainsType(root.TryGetProperty("pre_tokenizer", out var pre) ? pre : default, "ByteLevel")
            || ContainsType(root.TryGetProperty("decoder", out var decoder) ? decoder : default, "ByteLevel");
        if (!byteLevel)
            throw new InvalidDataException($"'{path}' is a BPE tokenizer without byte-level pre-tokenization; this reads byte-level BPE (GPT-2, Llama 3, Qwen) and SentencePiece tokenizer.model files");
        var options = new BpeOptions(vocab)
        {
            Merges = merges,
            SpecialTokens = specials,
            PreTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), specials),
            ByteLevel = true,
        };
        var bpe = BpeTokenizer.Create(options);
        var (postBos, postEos) = PostProcessorTokens(root);
        if (postBos is not null) names.TryAdd("bos_token", postBos);
        var size = Math.Max(vocab.Select(v => v.Value).DefaultIfEmpty(-1).Max(), specials.Values.DefaultIfEmpty(-1).Max()) + 1;
        return new ModelTokenizer(bpe, folder, size, specials, names, addBos ?? postBos is not null, addEos ?? postEos is not null, chatTemplate);
    }

    // GPT-2's pre-tokenizer pattern (ByteLevel with use_regex, which tokenizer.json files without a Split carry).
    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private static string? SplitPattern(JsonElement root)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind != JsonValueKind.Object) return null;
        IEnumerable<JsonElement> steps = pre.TryGetProperty("pretokenizers", out var list) ? list.EnumerateArray() : [pre];
        foreach (var step in steps)
        {
            if (step.TryGetProperty("type", out var type) && type.GetString() == "Split" && step.TryGetProperty("pattern", out var pattern)
                && pattern.TryGetProperty("Regex", out var regex))
                return regex.GetString();
        }
        return null;
    }

    private static bool ContainsType(JsonElement element, string type)
    {
        if (element.ValueKind != JsonValueKind.Object) return false;
        if (element.TryGetProperty("type", out var t) && t.GetString() == type) return true;
        foreach (var key in new[] { "pretokenizers", "decoders" })
        {
            if (element.TryGetProperty(key, out var list) && list.EnumerateArray().Any(e => ContainsType(e, type))) return true;
        }
        return false;
    }

    /// <summary>The special tokens a TemplateProcessing post-processor puts before and after a single sequence.</summary>
    private static (string? Bos, string? Eos) PostProcessorTokens(JsonElement root)
    {
        if (!root.TryGetProperty("post_processor", out var post) || post.ValueKind != JsonValueKind.Object) return (null, null);
        IEnumerable<JsonElement> steps = post.TryGetProperty("processors", out var list) ? list.EnumerateArray() : [post];
        foreach (var step in steps)
        {
            if (!step.TryGetProperty("type", out var type) || type.GetString() != "TemplateProcessing" || !step.TryGetProperty("single", out var single)) continue;
            var pieces = single.EnumerateArray().ToList();
            static string? Special(JsonElement piece) =>
                piece.TryGetProperty("SpecialToken", out var s) ? s.GetProperty("id").GetString() : null;
            return (pieces.Count > 0 ? Special(pieces[0]) : null, pieces.Count > 1 ? Special(pieces[^1]) : null);
        }
        return (null, null);
    }

    private static Dictionary<string, int> AddedTokens(JsonElement? config)
    {
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        if (config is { } c && c.TryGetProperty("added_tokens_decoder", out var decoder) && decoder.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in decoder.EnumerateObject())
            {
                if (int.TryParse(entry.Name, out var id) && entry.Value.TryGetProperty("content", out var content)) added[content.GetString()!] = id;
            }
        }
        return added;
    }

    private static JsonElement? ReadJson(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
    }

    private static string? TokenText(JsonElement? json, string name)
    {
        if (json is not { } j || j.ValueKind != JsonValueKind.Object || !j.TryGetProperty(name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var content) => content.GetString(),
            _ => null,
        };
    }

    private static bool? Bool(JsonElement? json, string name) =>
        json is { } j && j.ValueKind == JsonValueKind.Object && j.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : null;

    /// <summary>chat_template as a string, or the "default" of a list of named templates (as transformers picks).</summary>
    private static string? ChatTemplateOf(JsonElement? config)
    {
        if (config is not { } c || c.ValueKind != JsonValueKind.Object || !c.TryGetProperty("chat_template", out var template)) return null;
        if (template.ValueKind == JsonValueKind.String) return template.GetString();
        if (template.ValueKind != JsonValueKind.Array) return null;
        return template.EnumerateArray()
            .Where(t => t.TryGetProperty("name", out var n) && n.GetString() == "default")
            .Select(t => t.GetProperty("template").GetString())
            .FirstOrDefault();
    }

    private int? Id(string name) =>
        SpecialTokenNames.TryGetValue(name, out var text) && (SpecialTokens.TryGetValue(text, out var id) || TryMapSingleToken(text, out id)) ? id : null;

    private bool TryMapSingleToken(string text, out int id)
    {
        var ids = _tokenizer.EncodeToIds(text);
        id = ids.Count == 1 ? ids[0] : -1;
        return ids.Count == 1;
    }

    /// <summary>Token ids of a text; special tokens written in it are single ids. With <paramref name="addSpecialTokens"/>, BOS/EOS as the folder says.</summary>
    public List<int> Encode(string text, bool addSpecialTokens)
    {
        var ids = new List<int>();
        if (addSpecialTokens && AddBos && BosId is { } bos) ids.Add(bos);
        if (text.Length > 0) ids.AddRange(_tokenizer.EncodeToIds(text));
        if (addSpecialTokens && AddEos && EosId is { } eos) ids.Add(eos);
        return ids;
    }

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false) =>
        _tokenizer.Decode(skipSpecialTokens ? ids.Where(id => !_specialIds.Contains(id)) : ids) ?? "";

    /// <summary>The folder's chat template parsed, or null when it has none.</summary>
    /// <exception cref="ChatTemplateException">The template uses a construct the renderer does not render.</exception>
    public ChatTemplate? ChatTemplate() => ChatTemplateSource is { } source ? ChatTemplates.ChatTemplate.Parse(source) : null;
}
