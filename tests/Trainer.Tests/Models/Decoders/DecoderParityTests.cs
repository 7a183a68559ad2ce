using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trainer.Safetensors;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Models.Decoders;

/// <summary>
/// Each decoder family against an independent PyTorch implementation (scripts/check/decoder_reference.py) on the same
/// random Hugging Face folder and tokens: fp32 logits within 1e-5, without padding, left- and right-padded, and with a
/// LoRA adapter (non-zero lora_B) applied.
/// </summary>
[Collection(DecoderFoldersCollection.Name)]
public sealed class DecoderParityTests(DecoderFolders folders, ITestOutputHelper output)
{
    private const double Tolerance = 1e-5;

    public static TheoryData<string> Families => [.. DecoderReference.Families];

    [Theory]
    [MemberData(nameof(Families))]
    public void Logits_match_the_independent_pytorch_reference_unpadded_left_padded_right_padded_and_with_lora(string family)
    {
        var folder = folders.Of(family);
        using var scope = NewDisposeScope();
        var (reference, _) = SafetensorsFile.ReadAll(Path.Combine(folder, "reference.safetensors"));
        using var noGrad = no_grad();
        var ids = reference["input_ids"];
        using var model = CausalLanguageModels.FromPretrained(folder);
        var module = (nn.Module)model;
        module.eval();

        var differences = new Dictionary<string, double>
        {
            ["plain"] = MaxAbsDiff(model.Logits(ids), reference["plain"]),
            ["left_padded"] = MaxAbsDiff(model.Logits(ids, reference["left_mask"]), reference["left_padded"]),
            ["right_padded"] = MaxAbsDiff(model.Logits(ids, reference["right_mask"]), reference["right_padded"]),
        };
        DecoderReference.ApplyAdapter(module, Path.Combine(folder, "adapter"));
        differences["lora"] = MaxAbsDiff(model.Logits(ids, reference["left_mask"]), reference["lora"]);

        output.WriteLine($"{family}: " + string.Join(", ", differences.Select(d => $"{d.Key} {d.Value:E2}")));
        Assert.All(differences, d => Assert.True(d.Value <= Tolerance, $"{family} {d.Key}: max |Δ| {d.Value:E3} > {Tolerance:E0}"));
        // The adapter changed the logits (so the LoRA case checks something).
        Assert.True(MaxAbsDiff(reference["lora"], reference["left_padded"]) > 1e-2);
    }

    private static double MaxAbsDiff(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        return (actual - expected).abs().max().item<float>();
    }
}
