using Orchestrator.Trainer.Data.Tokenizers;
using Orchestrator.Trainer.Tests.Training;

namespace Orchestrator.Trainer.Tests.Instructions;

public sealed class ModelTokenizerTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public void Special_tokens_written_in_a_text_encode_as_single_ids()
    {
        TinyDecoders.WriteTokenizer(_workspace.Root);
        var tokenizer = ModelTokenizer.Load(_workspace.Root);

        var ids = tokenizer.Encode("<|im_start|>user\nhi<|im_end|>", addSpecialTokens: false);

        Assert.Equal(TinyDecoders.ImStart, ids[0]);
        Assert.Equal(TinyDecoders.ImEnd, ids[^1]);
        Assert.Equal(1, ids.Count(id => id == TinyDecoders.ImStart));
        Assert.Equal("<|im_start|>user\nhi<|im_end|>", tokenizer.Decode(ids));
        Assert.Equal("user\nhi", tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Byte_level_bpe_applies_its_merges_and_round_trips_any_text()
    {
        TinyDecoders.WriteTokenizer(_workspace.Root);
        var tokenizer = ModelTokenizer.Load(_workspace.Root);

        Assert.Equal([256], tokenizer.Encode("he", addSpecialTokens: false)); // the merge "h e"
        Assert.Equal([(int)'a', 257], tokenizer.Encode("a t", addSpecialTokens: false)); // "Ġ t": a space joins the next word
        const string text = "Café ☕ naïve — 42\n\ttabs";
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, addSpecialTokens: false)));
        Assert.Equal(TinyDecoders.VocabSize - 11, tokenizer.VocabSize); // ids 0..260
    }

    [Fact]
    public void Bos_eos_and_pad_come_from_tokenizer_config_and_add_bos_token_adds_bos()
    {
        TinyDecoders.WriteTokenizer(_workspace.Root, config =>
        {
            config["bos_token"] = new System.Text.Json.Nodes.JsonObject { ["content"] = "<|endoftext|>" };
            config["add_bos_token"] = true;
        });
        var tokenizer = ModelTokenizer.Load(_workspace.Root);

        Assert.Equal(TinyDecoders.EndOfText, tokenizer.BosId);
        Assert.Equal(TinyDecoders.ImEnd, tokenizer.EosId);
        Assert.Equal(TinyDecoders.EndOfText, tokenizer.PadId);
        Assert.Equal([TinyDecoders.EndOfText, (int)'a'], tokenizer.Encode("a", addSpecialTokens: true));
        Assert.Equal([(int)'a'], tokenizer.Encode("a", addSpecialTokens: false));
        Assert.NotNull(tokenizer.ChatTemplate());
    }

    [Fact]
    public void A_folder_without_a_tokenizer_is_refused_naming_the_files_it_needs()
    {
        var error = Assert.Throws<InvalidDataException>(() => ModelTokenizer.Load(_workspace.Root));
        Assert.Contains("tokenizer.json", error.Message);
        Assert.Contains("tokenizer.model", error.Message);
    }
}
