using System.Text.Json;

namespace Orchestrator.Trainer.Data.Text;

/// <summary>
/// A language-modelling corpus: JSONL documents (<c>{"text": "..."}</c> per line), tokenized, each followed by the
/// end-of-text id, and packed into windows of <see cref="SequenceLength"/> + 1 ids (inputs are a window's first
/// SequenceLength ids, targets its last SequenceLength). Every tenth document (the 10th, 20th, …) goes to
/// <see cref="Test"/>, the rest to <see cref="Train"/>, before packing, so no window straddles the split and the
/// split is the same on every machine. A split's trailing ids that do not fill a window are dropped.
/// </summary>
public sealed record TextCorpus(long[][] Train, long[][] Test, int VocabSize, int EosId, int SequenceLength, string TokenizerName)
{
    public const int TestEvery = 10;

    /// <param name="tokenizerPath">A tokenizer file (see <see cref="TextTokenizer"/>); null for byte-level.</param>
    public static TextCorpus Load(string jsonlPath, string? tokenizerPath, int seqLen) =>
        LoadWith(jsonlPath, TextTokenizer.Load(tokenizerPath), seqLen);

    /// <summary>As <see cref="Load"/>, with a tokenizer already loaded (to reuse it for decoding or other files).</summary>
    public static TextCorpus LoadWith(string jsonlPath, TextTokenizer tokenizer, int seqLen)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 1);
        var train = new List<long>();
        var test = new List<long>();
        var documents = 0;
        foreach (var text in ReadDocuments(jsonlPath))
        {
            documents++;
            var target = documents % TestEvery == 0 ? test : train;
            foreach (var id in tokenizer.Encode(text)) target.Add(id);
            target.Add(tokenizer.EosId);
        }
        var corpus = new TextCorpus(Pack(train, seqLen), Pack(test, seqLen), tokenizer.VocabSize, tokenizer.EosId, seqLen, tokenizer.Name);
        if (corpus.Train.Length == 0 || corpus.Test.Length == 0)
        {
            throw new InvalidDataException(
                $"'{jsonlPath}' is too small for seq_len {seqLen}: {documents} documents give {corpus.Train.Length} training and {corpus.Test.Length} test windows of {seqLen + 1} tokens; both need at least one.");
        }
        return corpus;
    }

    /// <summary>The <c>text</c> of each non-blank line, in file order.</summary>
    public static IEnumerable<string> ReadDocuments(string jsonlPath)
    {
        var lineNumber = 0;
        foreach (var line in File.ReadLines(jsonlPath))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string? text;
            try
            {
                using var document = JsonDocument.Parse(line);
                text = document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.TryGetProperty("text", out var value)
                    && value.ValueKind == JsonValueKind.String
                        ? value.GetString()
                        : null;
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{jsonlPath}:{lineNumber}: not valid JSON ({e.Message}).", e);
            }
            yield return text ?? throw new InvalidDataException($"{jsonlPath}:{lineNumber}: expected an object with a string \"text\" field.");
        }
    }

    private static long[][] Pack(List<long> ids, int seqLen)
    {
        var window = seqLen + 1;
        var windows = new long[ids.Count / window][];
        for (var i = 0; i < windows.Length; i++)
        {
            windows[i] = ids.GetRange(i * window, window).ToArray();
        }
        return windows;
    }
}
