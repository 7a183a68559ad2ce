using System.Text;
using System.Text.Json;
using Orchestrator.Trainer.Models.HuggingFace;
using Orchestrator.Trainer.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Models.HuggingFace;

/// <summary>Tiny Hugging Face encoder folders written by the tests: random weights under transformers' names, config.json and a tokenizer.</summary>
public static class TinyEncoders
{
    public static readonly string[] Words = ["good", "great", "fine", "nice", "bad", "awful", "poor", "sad", "the", "movie", "was", "a", "film"];
    public static readonly string[] BertSpecials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    public static EncoderConfig Config(EncoderFamily family) => new()
    {
        Family = family,
        VocabSize = family == EncoderFamily.Roberta ? 64 : BertSpecials.Length + Words.Length,
        HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 64,
        MaxPositionEmbeddings = 40, TypeVocabSize = family == EncoderFamily.DistilBert ? 0 : family == EncoderFamily.Roberta ? 1 : 2,
        LayerNormEps = family == EncoderFamily.Roberta ? 1e-5 : 1e-12,
        PadTokenId = family == EncoderFamily.Roberta ? 1 : 0,
        HiddenDropout = 0.1, AttentionDropout = 0.1, ClassifierDropout = 0.1,
        // Wider than transformers' 0.02: at 0.02 a random encoder's [CLS] barely sees the other tokens, so a toy task
        // would need many steps before anything is learnable; at 0.3 attention mixes the sentence into [CLS] from the start.
        InitializerRange = 0.3,
    };

    /// <summary>
    /// Writes a folder: config.json (through the family's own keys), the tokenizer, and model.safetensors of a randomly
    /// initialised model, without its classification head unless <paramref name="withHead"/>; with
    /// <paramref name="bareNames"/> the backbone's names lose their `bert.` prefix, as sentence-transformers exports.
    /// </summary>
    public static string Write(string folder, EncoderFamily family, long seed, bool withHead = false, bool bareNames = false, int numLabels = 2)
    {
        Directory.CreateDirectory(folder);
        var config = Config(family);
        File.WriteAllText(Path.Combine(folder, EncoderConfig.FileName), config.ToJson(withHead ? numLabels : null));
        WriteTokenizer(folder, family);
        using var model = EncoderClassifier.Create(config, numLabels, seed);
        using var scope = NewDisposeScope();
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in model.state_dict())
        {
            if (!withHead && config.HeadModules.Any(m => name.StartsWith(m + ".", StringComparison.Ordinal))) continue;
            var key = bareNames && name.StartsWith(config.Prefix + ".", StringComparison.Ordinal) ? name[(config.Prefix.Length + 1)..] : name;
            weights[key] = tensor.detach().clone();
        }
        SafetensorsFile.Write(Path.Combine(folder, EncoderClassifier.WeightsFileName), weights, new Dictionary<string, string> { ["format"] = "pt" });
        return folder;
    }

    public static void WriteTokenizer(string folder, EncoderFamily family)
    {
        if (family == EncoderFamily.Roberta)
        {
            // Byte-level BPE with no merges: every letter and the space marker Ġ is its own token.
            var vocab = new Dictionary<string, int> { ["<s>"] = 0, ["<pad>"] = 1, ["</s>"] = 2, ["<unk>"] = 3, ["Ġ"] = 4 };
            foreach (var c in "abcdefghijklmnopqrstuvwxyz") vocab[c.ToString()] = vocab.Count;
            File.WriteAllText(Path.Combine(folder, "vocab.json"), JsonSerializer.Serialize(vocab));
            File.WriteAllText(Path.Combine(folder, "merges.txt"), "#version: 0.2\n");
            File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), """{"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}""");
            return;
        }
        File.WriteAllText(Path.Combine(folder, "vocab.txt"), string.Join("\n", BertSpecials.Concat(Words)) + "\n");
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), """{"do_lower_case": true, "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]"}""");
    }

    /// <summary>A trivially separable sentiment set: positive words → "pos", negative words → "neg", in varied sentences.</summary>
    public static string WriteToyJsonl(string path, int rows = 80)
    {
        string[] positive = ["good", "great"], negative = ["bad", "awful"];
        var text = new StringBuilder();
        for (var i = 0; i < rows; i++)
        {
            var pos = i % 2 == 0;
            var word = (pos ? positive : negative)[i / 2 % 2];
            var sentence = (i / 4 % 3) switch
            {
                0 => $"The movie was {word}",
                1 => $"a {word} film",
                _ => $"{word} {word} movie",
            };
            text.Append(JsonSerializer.Serialize(new { text = sentence, label = pos ? "pos" : "neg" })).Append('\n');
        }
        File.WriteAllText(path, text.ToString());
        return path;
    }
}
