using System.Text.Json;
using Orchestrator.Models.Imdb;

namespace Orchestrator.Models.Tests;

/// <summary>The IMDB splits as prompt/completion rows (`dataset: imdb-instruct`), the decoder study's task.</summary>
public sealed class ImdbInstructionsTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"imdb-instruct-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void A_review_becomes_a_prompt_cut_at_a_word_boundary_and_its_label_a_completion_with_a_leading_space()
    {
        Assert.Equal("Review: Short and sweet.\nSentiment:", ImdbInstructions.Prompt("Short and sweet."));
        var longReview = string.Join(' ', Enumerable.Repeat("wonderful", 60)); // 599 characters, more than the cut
        var cut = ImdbInstructions.Cut(longReview);
        Assert.EndsWith("wonderful …", cut, StringComparison.Ordinal);
        Assert.True(cut.Length <= ImdbInstructions.MaxReviewCharacters + 2, cut.Length.ToString());
        Assert.Equal(" positive", ImdbInstructions.Completion(ImdbReviews.Positive));
    }

    [Fact]
    public void The_prompt_completion_splits_hold_the_same_reviews_in_the_same_splits_and_order()
    {
        var imdb = Path.Combine(_root, "imdb");
        Directory.CreateDirectory(imdb);
        var reviews = Enumerable.Range(0, 40).Select(i => new ImdbReview($"Review number {i}: {(i % 2 == 0 ? "loved it" : "hated it")}.", i % 2)).ToList();
        ImdbReviews.Write(imdb, reviews, ImdbReviews.DefaultSeed);
        var folder = Path.Combine(_root, "imdb-instruct");
        Directory.CreateDirectory(folder);

        var source = ImdbInstructions.Build(folder, imdb);

        foreach (var split in ImdbReviews.SplitNames)
        {
            var labelled = File.ReadLines(Path.Combine(imdb, split + ".jsonl")).Select(l => JsonSerializer.Deserialize<LabelledText>(l)!).ToList();
            var rows = File.ReadLines(Path.Combine(folder, split + ".jsonl")).Select(l => JsonSerializer.Deserialize<PromptCompletion>(l)!).ToList();
            Assert.Equal(labelled.Select(r => (ImdbInstructions.Prompt(r.Text), " " + r.Label)), rows.Select(r => (r.Prompt, r.Completion)));
            Assert.Equal(rows.Count.ToString(), source[split]);
        }
        Assert.Equal(ImdbInstructions.TrainingTexts(imdb), File.ReadLines(Path.Combine(imdb, "train.jsonl")).Select(l => JsonSerializer.Deserialize<LabelledText>(l)!.Text));
    }
}
