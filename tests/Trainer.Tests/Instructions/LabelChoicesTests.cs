using Orchestrator.Trainer.Data.Instructions;
using Orchestrator.Trainer.Data.Tokenizers;
using Orchestrator.Trainer.Tests.Training;

namespace Orchestrator.Trainer.Tests.Instructions;

/// <summary>test_accuracy compares whole label completions: a prompt whose labels do not all fit seq_len is left out, not guessed.</summary>
public sealed class LabelChoicesTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private static InstructionRow Row(string prompt, string completion) => new(InstructionFormat.PromptCompletion, "test.jsonl:1", Prompt: prompt, Completion: completion);

    [Fact]
    public void A_prompt_whose_label_completions_do_not_fit_seq_len_whole_is_left_out_of_accuracy_and_counted()
    {
        var folder = TinyDecoders.Write(_workspace.Sub("model"));
        var tokenizer = ModelTokenizer.Load(folder);
        var encoder = new InstructionEncoder(tokenizer, template: null, completionOnlyLoss: true, assistantOnlyLoss: true);
        var longPrompt = "Review: " + string.Join(' ', Enumerable.Repeat("the plot was dull and the acting awful", 3)) + "\nSentiment:";
        // seq_len leaves the long prompt room for two completion tokens only: its labels would be compared cut short.
        var promptTokens = encoder.Encode(Row(longPrompt, " positive")).Trained.TakeWhile(t => !t).Count();
        var maxTokens = promptTokens + 2;
        var rows = new List<InstructionRow>
        {
            Row("Review: great\nSentiment:", " positive"),
            Row(longPrompt, " negative"),
            Row("Review: awful\nSentiment:", " negative"),
        };
        Assert.True(encoder.Encode(rows[0] with { Completion = " negative" }).Ids.Length <= maxTokens, "the short prompts fit with either label");

        using var labels = LabelChoices.Create(rows, [" positive", " negative"], tokenizer, null, maxTokens, padId: 0);

        Assert.Equal([" negative", " positive"], labels.Candidates);
        Assert.Equal([1, 0], labels.Correct); // the two short prompts, in order; the long one is not scored
        Assert.Equal(1, labels.Unscored);
        Assert.Equal(2 * 2, labels.Inputs.shape[0]); // each scored prompt once per candidate
        // Every window holds its candidate whole: the completion's tokens and EOS are all trained targets.
        var trainedPerWindow = labels.Targets.ne(-100).sum(1).data<long>().ToArray();
        var wholeNegative = encoder.Encode(rows[0] with { Completion = " negative" }).TrainedTargets;
        var wholePositive = encoder.Encode(rows[0] with { Completion = " positive" }).TrainedTargets;
        Assert.Equal([wholeNegative, wholePositive, wholeNegative, wholePositive], trainedPerWindow.Select(n => (int)n));
    }

    [Fact]
    public void When_no_prompt_leaves_room_for_every_label_the_error_says_to_raise_seq_len()
    {
        var folder = TinyDecoders.Write(_workspace.Sub("model"));
        var tokenizer = ModelTokenizer.Load(folder);
        var rows = new List<InstructionRow> { Row("Review: a long enough prompt\nSentiment:", " positive") };

        var error = Assert.Throws<InvalidDataException>(() => LabelChoices.Create(rows, [" positive", " negative"], tokenizer, null, maxTokens: 12, padId: 0));

        Assert.Contains("raise seq_len", error.Message);
        Assert.Contains("' negative'", error.Message);
    }
}
