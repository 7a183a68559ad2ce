using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;
using Orchestrator.Models.Pretrained;
using Orchestrator.Trainer.Safetensors;
using TorchSharp;
using Xunit.Abstractions;

namespace Orchestrator.Models.Tests;

/// <summary>
/// The converted folder against the package's own model.onnx run by ONNX Runtime: the same sentences, tokenized from
/// the converted vocab.txt, give the same last_hidden_state through a TorchSharp BERT forward of model.safetensors.
/// </summary>
public sealed class ParityTests(PulledMiniLm minilm, ITestOutputHelper log) : IClassFixture<PulledMiniLm>
{
    private static readonly string[] Sentences =
    [
        "The quick brown fox jumps over the lazy dog.",
        "LoRA adapters fine-tune a frozen transformer with few parameters!",
        "Hello world",
        "An unbelievably disappointing, over-long film; I wanted my two hours back.",
    ];

    [Fact]
    public void Converted_safetensors_reproduce_the_onnx_last_hidden_state_within_1e_4()
    {
        var folder = minilm.Pulled.Folder;
        var tokenizer = BertTokenizer.Create(Path.Combine(folder, BertFolder.VocabFile), new BertOptions { LowerCaseBeforeTokenization = true });
        var encoded = Sentences.Select(s => tokenizer.EncodeToIds(s)).ToList();
        Assert.All(encoded, ids => Assert.Equal((101, 102), (ids[0], ids[^1]))); // [CLS] ... [SEP]
        var (batch, length) = (encoded.Count, encoded.Max(ids => ids.Count));
        var ids = new long[batch * length];
        var mask = new long[batch * length];
        for (var b = 0; b < batch; b++)
            for (var t = 0; t < encoded[b].Count; t++)
            {
                ids[b * length + t] = encoded[b][t];
                mask[b * length + t] = 1;
            }

        var (onnx, _) = PackageResources.Read(PretrainedModels.MiniLmL6);
        float[] expected;
        using (var session = new InferenceSession(onnx))
        {
            long[] shape = [batch, length];
            var feeds = new Dictionary<string, long[]> { ["input_ids"] = ids, ["attention_mask"] = mask, ["token_type_ids"] = new long[ids.Length] };
            var inputNames = session.InputMetadata.Keys.ToList();
            Assert.True(inputNames.All(feeds.ContainsKey), $"model inputs: {string.Join(", ", inputNames)}");
            var inputs = inputNames.Select(n => OrtValue.CreateTensorValueFromMemory(feeds[n], shape)).ToList();
            var outputName = session.OutputMetadata.Keys.First();
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputNames, inputs, [outputName]);
            var info = outputs[0].GetTensorTypeAndShape();
            Assert.Equal([batch, length, 384L], info.Shape);
            expected = outputs[0].GetTensorDataAsSpan<float>().ToArray();
            foreach (var input in inputs) input.Dispose();
        }

        using var scope = torch.NewDisposeScope();
        var (weights, _) = SafetensorsFile.ReadAll(Path.Combine(folder, BertFolder.WeightsFile));
        var actual = BertReferenceOracle.LastHiddenState(
            weights, torch.tensor(ids, [batch, length]), torch.tensor(mask, [batch, length]), heads: 12, eps: 1e-12);
        var difference = (actual - torch.tensor(expected, [batch, length, 384])).abs();
        // Only real tokens: padded positions are attention outputs nobody reads.
        var realTokens = torch.tensor(mask, [batch, length]).to(torch.ScalarType.Bool);
        var maxDifference = difference[realTokens].max().item<float>();

        log.WriteLine($"{batch} sentences x {length} tokens: max |onnx - torchsharp| = {maxDifference:E3}");
        Assert.True(maxDifference < 1e-4f, $"max |onnx - torchsharp| over real tokens = {maxDifference:E3}");
        Assert.True(actual.abs().max().item<float>() > 0.1f, "the hidden states are not trivially zero");
    }
}
