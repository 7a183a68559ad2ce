using System.Text;
using System.Text.Json;
using Orchestrator.Trainer.Data.Text;

namespace Orchestrator.Trainer.Tests.Text;

public sealed class TextCorpusTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("text-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string TinyStories()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "data", "text", "tiny-stories.jsonl");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("data/text/tiny-stories.jsonl not found above the test binaries.");
    }

    private string Jsonl(params string[] lines)
    {
        var path = Path.Combine(_directory, $"{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Tiny_stories_pack_byte_level_into_windows_of_seq_len_plus_one_split_ninety_ten()
    {
        var corpus = TextCorpus.Load(TinyStories(), tokenizerPath: null, seqLen: 64);

        Assert.Equal(257, corpus.VocabSize);
        Assert.Equal(256, corpus.EosId);
        Assert.All(corpus.Train.Concat(corpus.Test), w => Assert.Equal(65, w.Length));
        Assert.All(corpus.Train.Concat(corpus.Test).SelectMany(w => w), id => Assert.InRange(id, 0, 256));
        var testShare = (double)corpus.Test.Length / (corpus.Train.Length + corpus.Test.Length);
        Assert.InRange(testShare, 0.07, 0.13);
        Assert.True(corpus.Train.Length > 1000);

        var firstStory = TextCorpus.ReadDocuments(TinyStories()).First();
        var decoded = TextTokenizer.ByteLevel.Decode(corpus.Train[0].Select(id => (int)id));
        Assert.StartsWith(decoded, firstStory);
    }

    [Fact]
    public void Loading_twice_gives_the_same_windows()
    {
        var one = TextCorpus.Load(TinyStories(), null, 32);
        var two = TextCorpus.Load(TinyStories(), null, 32);
        Assert.Equal(one.Train, two.Train);
        Assert.Equal(one.Test, two.Test);
    }

    [Fact]
    public void Every_tenth_document_goes_to_test_each_followed_by_end_of_text()
    {
        var lines = Enumerable.Range(1, 20).Select(i => JsonSerializer.Serialize(new { text = $"doc{i:D2}" })).ToArray();
        var corpus = TextCorpus.Load(Jsonl(lines), null, seqLen: 5);
        // "doc10" + eos and "doc20" + eos: two windows of six ids.
        Assert.Equal(["doc10", "doc20"], corpus.Test.Select(w => Encoding.UTF8.GetString(w[..5].Select(b => (byte)b).ToArray())));
        Assert.All(corpus.Test, w => Assert.Equal(256, w[5]));
        Assert.Equal(18, corpus.Train.Length);
    }

    [Fact]
    public void A_line_that_is_not_JSON_is_reported_with_its_line_number()
    {
        var path = Jsonl("{\"text\": \"fine\"}", "", "{\"text\": broken}");
        var error = Assert.Throws<InvalidDataException>(() => TextCorpus.Load(path, null, 4));
        Assert.Contains($"{path}:3:", error.Message);
    }

    [Fact]
    public void A_line_without_a_text_string_is_reported_with_its_line_number()
    {
        var path = Jsonl("{\"text\": \"fine\"}", "{\"body\": \"no text\"}");
        var error = Assert.Throws<InvalidDataException>(() => TextCorpus.Load(path, null, 4));
        Assert.Contains($"{path}:2:", error.Message);
        Assert.Contains("\"text\"", error.Message);
    }

    [Fact]
    public void A_corpus_too_small_for_one_test_window_is_refused()
    {
        var path = Jsonl("{\"text\": \"one short line\"}");
        Assert.Contains("too small", Assert.Throws<InvalidDataException>(() => TextCorpus.Load(path, null, 64)).Message);
    }

    [Fact]
    public void Byte_level_BPE_from_vocab_and_merges_and_from_tokenizer_json_agree()
    {
        var (vocab, merges) = TinyBpe();
        var vocabPath = Path.Combine(_directory, "vocab.json");
        File.WriteAllText(vocabPath, JsonSerializer.Serialize(vocab));
        File.WriteAllText(Path.Combine(_directory, "merges.txt"), "#version: 0.2\n" + string.Join("\n", merges) + "\n");

        var fromFiles = TextTokenizer.Load(vocabPath);
        var the = vocab["Ġthe"];
        Assert.Equal([vocab["a"], the, vocab["Ġ"], vocab["b"]], fromFiles.Encode("a the b"));
        Assert.Equal("a the b", fromFiles.Decode(fromFiles.Encode("a the b")));

        var tokenizerJson = new
        {
            added_tokens = new[] { new { id = vocab.Count, content = "<|endoftext|>" } },
            model = new { type = "BPE", vocab, merges },
        };
        var jsonPath = Path.Combine(_directory, "tokenizer.json");
        File.WriteAllText(jsonPath, JsonSerializer.Serialize(tokenizerJson));
        var fromJson = TextTokenizer.Load(jsonPath);
        Assert.Equal(fromFiles.Encode("a the b"), fromJson.Encode("a the b"));
        Assert.Equal(vocab.Count, fromJson.EosId);
        Assert.Equal(vocab.Count + 1, fromJson.VocabSize);
    }

    [Fact]
    public void An_unknown_tokenizer_file_is_refused_by_name()
    {
        var path = Path.Combine(_directory, "tokenizer.bin");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => TextTokenizer.Load(path)).Message);
    }

    [Fact]
    public void A_tiktoken_rank_file_tokenizes_with_its_merges_and_cl100k_special_tokens()
    {
        var path = Path.Combine(_directory, "tiny.tiktoken");
        var lines = Enumerable.Range(0, 256).Select(b => $"{Convert.ToBase64String([(byte)b])} {b}")
            .Append($"{Convert.ToBase64String("th"u8.ToArray())} 256");
        File.WriteAllLines(path, lines);

        var tokenizer = TextTokenizer.Load(path);
        Assert.Equal([256, 'e'], tokenizer.Encode("the"));
        Assert.Equal("the", tokenizer.Decode(tokenizer.Encode("the")));
        // Not an o200k file, so cl100k's specials: <|endoftext|> is 100257, the last special 100276.
        Assert.Equal(100257, tokenizer.EosId);
        Assert.Equal(100277, tokenizer.VocabSize);
    }

    // GPT-2's byte-to-character table: printable bytes stand for themselves, the rest move to 256 and up.
    private static (Dictionary<string, int> Vocab, string[] Merges) TinyBpe()
    {
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range(0xA1, 0xAC - 0xA1 + 1)).Concat(Enumerable.Range(0xAE, 0xFF - 0xAE + 1)).ToHashSet();
        var vocab = new Dictionary<string, int>();
        var shifted = 0;
        for (var b = 0; b < 256; b++)
        {
            var c = printable.Contains(b) ? (char)b : (char)(256 + shifted++);
            vocab[c.ToString()] = b;
        }
        string[] merges = ["Ġ t", "Ġt h", "Ġth e"];
        foreach (var merge in merges) vocab[merge.Replace(" ", "")] = vocab.Count;
        return (vocab, merges);
    }
}
