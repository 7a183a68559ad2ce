using Orchestrator.Trainer.Data.ChatTemplates;
using Orchestrator.Trainer.Data.Instructions;
using Orchestrator.Trainer.Data.Tokenizers;
using Orchestrator.Trainer.Tests.Training;

namespace Orchestrator.Trainer.Tests.Instructions;

public sealed class InstructionEncodingTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();
    private readonly ModelTokenizer _tokenizer;

    public InstructionEncodingTests()
    {
        TinyDecoders.WriteTokenizer(_workspace.Root);
        _tokenizer = ModelTokenizer.Load(_workspace.Root);
    }

    public void Dispose() => _workspace.Dispose();

    private string TrainedText(EncodedExample example) =>
        _tokenizer.Decode(example.Ids.Where((_, i) => example.Trained[i]));

    [Fact]
    public void Completion_only_loss_trains_the_completion_and_eos_and_nothing_of_the_prompt()
    {
        var row = new InstructionRow(InstructionFormat.PromptCompletion, "x:1", Prompt: "Review: great film. Sentiment:", Completion: " positive");

        var only = new InstructionEncoder(_tokenizer, null, completionOnlyLoss: true, assistantOnlyLoss: true).Encode(row);
        var all = new InstructionEncoder(_tokenizer, null, completionOnlyLoss: false, assistantOnlyLoss: true).Encode(row);

        Assert.Equal(" positive<|im_end|>", TrainedText(only));
        Assert.Equal("Review: great film. Sentiment: positive<|im_end|>", TrainedText(all));
        Assert.Equal(only.Ids, all.Ids);
    }

    [Fact]
    public void Assistant_only_loss_trains_each_assistant_turn_and_its_end_of_turn_only()
    {
        var row = new InstructionRow(InstructionFormat.Conversation, "x:1", Messages:
        [
            new("system", "Be brief."), new("user", "Hello"), new("assistant", "Hi there"), new("user", "Who are you"), new("assistant", "A model"),
        ]);
        var template = ChatTemplate.Parse(TinyDecoders.ChatMl);

        var only = new InstructionEncoder(_tokenizer, template, true, assistantOnlyLoss: true).Encode(row);
        var all = new InstructionEncoder(_tokenizer, template, true, assistantOnlyLoss: false).Encode(row);

        Assert.Equal("Hi there<|im_end|>\nA model<|im_end|>\n", TrainedText(only));
        Assert.Equal(template.Render(row.Messages!, false), _tokenizer.Decode(only.Ids));
        Assert.Equal(_tokenizer.Decode(all.Ids), TrainedText(all));
    }

    [Fact]
    public void A_conversation_without_a_chat_template_is_refused_with_its_location()
    {
        var row = new InstructionRow(InstructionFormat.Conversation, "chat.jsonl:7", Messages: [new("user", "hi"), new("assistant", "yo")]);

        var error = Assert.Throws<InvalidDataException>(() => new InstructionEncoder(_tokenizer, null, true, true).Encode(row));

        Assert.Contains("chat.jsonl:7: conversational rows need a chat template", error.Message);
    }

    [Fact]
    public void Packing_puts_whole_examples_into_windows_with_positions_restarting_at_each()
    {
        var examples = new[]
        {
            new EncodedExample([1, 2, 3, 4], [false, true, true, true]),
            new EncodedExample([5, 6, 7], [false, false, true]),
            new EncodedExample([8, 9, 10, 11, 12], [true, true, true, true, true]),
        };

        var windows = InstructionDataset.Pack(examples, length: 6);

        Assert.Equal(2, windows.Count);
        Assert.Equal([1, 2, 3, 5, 6], windows[0].Ids);
        Assert.Equal([0L, 1, 2, 0, 1], windows[0].Positions);
        Assert.Equal([2L, 3, 4, -100, 7], windows[0].Targets); // no target crosses from one example into the next
        Assert.Equal([0L, 1, 2, 3], windows[1].Positions);
    }
}
