using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Models.Imdb;

/// <summary>One prompt/completion row (TRL's format).</summary>
public sealed record PromptCompletion([property: JsonPropertyName("prompt")] string Prompt, [property: JsonPropertyName("completion")] string Completion);

/// <summary>
/// The prepared IMDB splits (<see cref="ImdbReviews"/>) as prompt/completion rows for a decoder: the prompt is
/// "Review: " and the review cut at a word boundary to at most <see cref="MaxReviewCharacters"/> characters (" …" marks
/// a cut), then "\nSentiment:"; the completion is " positive" or " negative". The same reviews in the same splits and
/// order, so nothing a base was pretrained on (the training reviews) reaches validation or test.
/// </summary>
public static class ImdbInstructions
{
    public const string DatasetName = NamedDatasets.ImdbInstruct;
    /// <summary>A review's first 300 characters (about 80 tokens of imdb-llama's 2k BPE vocabulary): prompt and label fit seq_len 128.</summary>
    public const int MaxReviewCharacters = 300;

    private static readonly JsonSerializerOptions JsonLines = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary><c>{cache}/data/imdb-instruct-{MaxReviewCharacters}</c>: another cut is another folder, never a stale one.</summary>
    public static string FolderOf(string? cacheRoot = null) =>
        Path.Combine(CacheFolder.Data(cacheRoot), $"{DatasetName}-{MaxReviewCharacters.ToString(CultureInfo.InvariantCulture)}");

    public static string Prompt(string review) => $"Review: {Cut(review)}\nSentiment:";

    public static string Completion(string label) => " " + label;

    /// <summary>The review whole when it fits, else its words up to <see cref="MaxReviewCharacters"/> and " …".</summary>
    public static string Cut(string review)
    {
        if (review.Length <= MaxReviewCharacters) return review;
        var space = review.LastIndexOf(' ', MaxReviewCharacters);
        return review[..(space > 0 ? space : MaxReviewCharacters)] + " …";
    }

    /// <summary>Writes train/validation/test.jsonl of prompt/completion rows from the prepared IMDB folder; returns the manifest's source entries.</summary>
    public static Dictionary<string, string> Build(string folder, string imdbFolder)
    {
        var source = new Dictionary<string, string>
        {
            ["from"] = $"{ImdbReviews.DatasetName} (npm {ImdbReviews.PackageName} {ImdbReviews.PackageVersion})",
            ["prompt"] = Prompt("{review}").Replace("\n", "\\n", StringComparison.Ordinal),
            ["max review characters"] = MaxReviewCharacters.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var split in ImdbReviews.SplitNames)
        {
            var lines = new StringBuilder();
            var rows = 0;
            foreach (var line in File.ReadLines(Path.Combine(imdbFolder, split + ".jsonl")))
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                var review = JsonSerializer.Deserialize<LabelledText>(line) ?? throw new InvalidDataException($"{imdbFolder}/{split}.jsonl: an empty row");
                lines.Append(JsonSerializer.Serialize(new PromptCompletion(Prompt(review.Text), Completion(review.Label)), JsonLines)).Append('\n');
                rows++;
            }
            File.WriteAllText(Path.Combine(folder, split + ".jsonl"), lines.ToString(), new UTF8Encoding(false));
            source[split] = rows.ToString(CultureInfo.InvariantCulture);
        }
        File.Copy(Path.Combine(imdbFolder, "ATTRIBUTION.md"), Path.Combine(folder, "ATTRIBUTION.md"), overwrite: true);
        return source;
    }

    /// <summary>The training reviews' texts in file order: the corpus a named decoder pretrains on.</summary>
    public static IEnumerable<string> TrainingTexts(string imdbFolder) =>
        File.ReadLines(Path.Combine(imdbFolder, "train.jsonl")).Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l => (JsonSerializer.Deserialize<LabelledText>(l) ?? throw new InvalidDataException($"{imdbFolder}/train.jsonl: an empty row")).Text);
}
