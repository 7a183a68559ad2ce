using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Trainer.Models.Llama;
using Orchestrator.Trials.Models.Llama;

namespace Orchestrator.Trainer.Tests.Instructions;

/// <summary>
/// Small Hugging Face decoder folders written by the tests: a random llama (config.json + model.safetensors) and a
/// byte-level BPE tokenizer.json built here (GPT-2's 256 byte symbols, two merges, and ChatML's special tokens), with a
/// tokenizer_config.json naming EOS and PAD and carrying a ChatML chat template.
/// </summary>
internal static class TinyDecoders
{
    public const int VocabSize = 272;
    public const int EndOfText = 258, ImStart = 259, ImEnd = 260;
    public const string ChatMl =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    public static LlamaConfig Config => new()
    {
        VocabSize = VocabSize, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
        MaxPositionEmbeddings = 128,
        // Large enough that lm_head can make confident predictions from RMS-normalised states (0.02 keeps every logit near 0).
        InitializerRange = 0.5,
    };

    /// <summary>A llama folder with the tokenizer; <paramref name="tokenizerConfig"/> edits tokenizer_config.json.</summary>
    public static string Write(string folder, long seed = 1, Action<JsonObject>? tokenizerConfig = null, bool chatTemplate = true)
    {
        Directory.CreateDirectory(folder);
        using (var model = LlamaModel.Create(Config, seed)) model.SavePretrained(folder);
        WriteTokenizer(folder, tokenizerConfig, chatTemplate);
        return folder;
    }

    public static void WriteTokenizer(string folder, Action<JsonObject>? tokenizerConfig = null, bool chatTemplate = true)
    {
        Directory.CreateDirectory(folder);
        var vocab = new JsonObject();
        var symbols = ByteSymbols();
        for (var b = 0; b < 256; b++) vocab[symbols[b].ToString()] = b;
        vocab["he"] = 256;
        vocab["Ġt"] = 257;
        var added = new JsonArray(
            Special("<|endoftext|>", EndOfText), Special("<|im_start|>", ImStart), Special("<|im_end|>", ImEnd));
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = true },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new JsonArray("h e", "Ġ t") },
        };
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), tokenizer.ToJsonString());
        var config = new JsonObject { ["eos_token"] = "<|im_end|>", ["pad_token"] = "<|endoftext|>" };
        if (chatTemplate) config["chat_template"] = ChatMl;
        tokenizerConfig?.Invoke(config);
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), config.ToJsonString());
    }

    private static JsonObject Special(string content, int id) => new() { ["id"] = id, ["content"] = content, ["special"] = true };

    /// <summary>GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map past U+0100.</summary>
    public static char[] ByteSymbols()
    {
        var symbols = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            symbols[b] = printable ? (char)b : (char)next++;
        }
        return symbols;
    }

    public static string WriteJsonl(string path, IEnumerable<object> rows)
    {
        File.WriteAllLines(path, rows.Select(r => JsonSerializer.Serialize(r)), new UTF8Encoding(false));
        return path;
    }
}
