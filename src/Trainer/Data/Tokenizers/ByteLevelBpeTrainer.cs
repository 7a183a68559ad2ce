using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Orchestrator.Trainer.Data.Tokenizers;

/// <summary>
/// Trains a byte-level BPE tokenizer as Hugging Face tokenizers' BpeTrainer does for GPT-2: texts split by GPT-2's
/// pre-tokenizer pattern, each piece's UTF-8 bytes as the 256 base symbols (written in GPT-2's byte-to-unicode
/// alphabet), then the most frequent adjacent pair merged, again and again, until the vocabulary holds
/// <c>vocabSize</c> ids with the end-of-text token last. Ties go to the pair of smaller ids, so training is
/// deterministic. <see cref="WriteFolder"/> writes what transformers reads: <c>tokenizer.json</c> and
/// <c>tokenizer_config.json</c>, which <see cref="ModelTokenizer"/> loads.
/// </summary>
public sealed class ByteLevelBpeTrainer
{
    public const string EndOfText = "<|endoftext|>";

    private ByteLevelBpeTrainer(List<string> vocabulary, List<(int Left, int Right)> merges, Dictionary<string, int[]> segmentations)
    {
        Vocabulary = vocabulary;
        Merges = merges;
        Segmentations = segmentations;
    }

    /// <summary>Token text (byte-to-unicode alphabet) by id; the last is <see cref="EndOfText"/>.</summary>
    public IReadOnlyList<string> Vocabulary { get; }
    /// <summary>The merges in the order they were learnt (their rank).</summary>
    public IReadOnlyList<(int Left, int Right)> Merges { get; }
    /// <summary>Every pre-tokenized piece of the training texts and the ids training left it as.</summary>
    public IReadOnlyDictionary<string, int[]> Segmentations { get; }
    public int EndOfTextId => Vocabulary.Count - 1;

    /// <summary>GPT-2's map from a byte to the printable character that stands for it in vocabularies and merges.</summary>
    public static readonly char[] ByteToUnicode = BuildByteToUnicode();

    private static char[] BuildByteToUnicode()
    {
        var map = new char[256];
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1)).Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToHashSet();
        var next = 0;
        for (var b = 0; b < 256; b++) map[b] = printable.Contains(b) ? (char)b : (char)(256 + next++);
        return map;
    }

    public static ByteLevelBpeTrainer Train(IEnumerable<string> texts, int vocabSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 258);
        var pattern = new Regex(ModelTokenizer.Gpt2Pattern, RegexOptions.Compiled);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var text in texts)
        {
            foreach (Match piece in pattern.Matches(text))
                counts[piece.Value] = counts.GetValueOrDefault(piece.Value) + 1;
        }
        var pieces = counts.Keys.Order(StringComparer.Ordinal).ToList();
        var words = pieces.Select(p => Encoding.UTF8.GetBytes(p).Select(b => (int)b).ToList()).ToList();
        var frequency = pieces.Select(p => counts[p]).ToArray();

        var vocabulary = Enumerable.Range(0, 256).Select(b => ByteToUnicode[b].ToString()).ToList();
        var ids = vocabulary.Select((token, id) => (token, id)).ToDictionary(x => x.token, x => x.id, StringComparer.Ordinal);
        var pairCounts = new Dictionary<long, long>();
        var pairWords = new Dictionary<long, HashSet<int>>();
        static long Key(int left, int right) => ((long)left << 32) | (uint)right;
        void Count(int word, long sign)
        {
            var symbols = words[word];
            for (var i = 0; i + 1 < symbols.Count; i++)
            {
                var key = Key(symbols[i], symbols[i + 1]);
                var total = pairCounts.GetValueOrDefault(key) + sign * frequency[word];
                if (total == 0) pairCounts.Remove(key); else pairCounts[key] = total;
                if (sign > 0)
                {
                    if (!pairWords.TryGetValue(key, out var set)) pairWords[key] = set = [];
                    set.Add(word);
                }
            }
        }
        for (var w = 0; w < words.Count; w++) Count(w, +1);

        var merges = new List<(int, int)>();
        while (vocabulary.Count < vocabSize - 1 && pairCounts.Count > 0)
        {
            long best = 0, bestCount = 0;
            foreach (var (key, count) in pairCounts)
            {
                if (count > bestCount || (count == bestCount && key < best)) (best, bestCount) = (key, count);
            }
            int left = (int)(best >> 32), right = (int)(best & 0xFFFFFFFF);
            var token = vocabulary[left] + vocabulary[right];
            if (!ids.TryGetValue(token, out var merged))
            {
                merged = vocabulary.Count;
                vocabulary.Add(token);
                ids[token] = merged;
            }
            merges.Add((left, right));
            foreach (var w in pairWords[best].ToList())
            {
                var symbols = words[w];
                Count(w, -1);
                var result = new List<int>(symbols.Count);
                for (var i = 0; i < symbols.Count; i++)
                {
                    if (i + 1 < symbols.Count && symbols[i] == left && symbols[i + 1] == right) { result.Add(merged); i++; }
                    else result.Add(symbols[i]);
                }
                words[w] = result;
                Count(w, +1);
            }
            pairWords.Remove(best);
        }
        vocabulary.Add(EndOfText);
        var segmentations = new Dictionary<string, int[]>(StringComparer.Ordinal);
        for (var w = 0; w < pieces.Count; w++) segmentations[pieces[w]] = [.. words[w]];
        return new ByteLevelBpeTrainer(vocabulary, merges, segmentations);
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Writes <c>tokenizer.json</c> (BPE model, ByteLevel pre-tokenizer and decoder, the end-of-text token as an added
    /// special token) and <c>tokenizer_config.json</c> (it is BOS, EOS, UNK and PAD, and starts every encoded text, as
    /// every pretraining document started with it) into <paramref name="folder"/>.
    /// </summary>
    public void WriteFolder(string folder, int modelMaxLength)
    {
        Directory.CreateDirectory(folder);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var id = 0; id < EndOfTextId; id++) vocab.TryAdd(Vocabulary[id], id);
        var byteLevel = new Dictionary<string, object> { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true };
        var tokenizer = new Dictionary<string, object?>
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new[]
            {
                new Dictionary<string, object> { ["id"] = EndOfTextId, ["content"] = EndOfText, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true },
            },
            ["normalizer"] = null,
            ["pre_tokenizer"] = byteLevel,
            ["post_processor"] = byteLevel,
            ["decoder"] = byteLevel,
            ["model"] = new Dictionary<string, object?>
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = "", ["end_of_word_suffix"] = "",
                ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocab,
                ["merges"] = Merges.Select(m => new[] { Vocabulary[m.Left], Vocabulary[m.Right] }).ToList(),
            },
        };
        var config = new Dictionary<string, object>
        {
            ["add_bos_token"] = true, ["add_eos_token"] = false,
            ["bos_token"] = EndOfText, ["eos_token"] = EndOfText, ["unk_token"] = EndOfText, ["pad_token"] = EndOfText,
            ["model_max_length"] = modelMaxLength, ["clean_up_tokenization_spaces"] = false, ["tokenizer_class"] = "GPT2Tokenizer",
            ["added_tokens_decoder"] = new Dictionary<string, object>
            {
                [EndOfTextId.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new Dictionary<string, object> { ["content"] = EndOfText, ["lstrip"] = false, ["normalized"] = false, ["rstrip"] = false, ["single_word"] = false, ["special"] = true },
            },
        };
        Training.AtomicFile.WriteAllText(Path.Combine(folder, ModelTokenizer.TokenizerJson), JsonSerializer.Serialize(tokenizer, Indented));
        Training.AtomicFile.WriteAllText(Path.Combine(folder, ModelTokenizer.ConfigFile), JsonSerializer.Serialize(config, Indented));
    }
}
