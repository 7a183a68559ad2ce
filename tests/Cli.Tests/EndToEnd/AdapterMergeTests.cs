using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trainer.Safetensors;
using Orchestrator.Trainer.Tests.Models.Decoders;
using static TorchSharp.torch;

namespace Orchestrator.Cli.Tests.EndToEnd;

/// <summary>
/// `adapter merge` through the real binary: the merged folder loads with the decoder loader and gives the logits the
/// independent PyTorch reference computed for base + adapter (PEFT's merge_and_unload; GPT-2 through fan_in_fan_out).
/// </summary>
public sealed class AdapterMergeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("adapter-merge-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("qwen2")]
    [InlineData("llama")]
    public async Task A_merged_folder_gives_the_logits_of_base_plus_adapter(string family)
    {
        var folder = Path.Combine(_dir, family);
        DecoderReference.Write(family, folder);
        var merged = Path.Combine(_dir, family + "-merged");

        var result = await CliProcess.RunAsync(["adapter", "merge", "--model", folder, "--adapter", Path.Combine(folder, "adapter"), "-o", merged]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("merged 4 LoRA module(s)", result.Stdout); // two targets in each of two layers
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (reference, _) = SafetensorsFile.ReadAll(Path.Combine(folder, "reference.safetensors"));
        using var model = CausalLanguageModels.FromPretrained(merged);
        ((nn.Module)model).eval();
        var difference = (model.Logits(reference["input_ids"], reference["left_mask"]) - reference["lora"]).abs().max().item<float>();
        Assert.True(difference <= 1e-5, $"{family}: merged logits differ from base + adapter by {difference:E3}");
        Assert.Contains("\"_name_or_path\": \"tiny-random/" + family + "\"", File.ReadAllText(Path.Combine(merged, "config.json")));
    }

    [Fact]
    public async Task Merging_an_adapter_of_another_family_names_the_modules_it_cannot_find()
    {
        var gpt2 = Path.Combine(_dir, "gpt2");
        var llama = Path.Combine(_dir, "llama");
        DecoderReference.Write("gpt2", gpt2);
        DecoderReference.Write("llama", llama);

        var result = await CliProcess.RunAsync(["adapter", "merge", "--model", llama, "--adapter", Path.Combine(gpt2, "adapter"), "-o", Path.Combine(_dir, "out")]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("adapter tensors for modules this model does not have: base_model.model.transformer.h.0.attn.c_attn", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_dir, "out")));
    }

    [Fact]
    public async Task A_model_that_is_neither_a_folder_nor_a_named_decoder_is_named_in_one_line()
    {
        var gpt2 = Path.Combine(_dir, "gpt2");
        DecoderReference.Write("gpt2", gpt2);

        var result = await CliProcess.RunAsync(["adapter", "merge", "--model", "no-such-llama", "--adapter", Path.Combine(gpt2, "adapter"), "-o", Path.Combine(_dir, "out")]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--model '", result.Stderr);
        Assert.Contains("no-such-llama' is not a folder", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task Merging_into_a_folder_that_is_not_empty_is_refused()
    {
        var gpt2 = Path.Combine(_dir, "gpt2");
        DecoderReference.Write("gpt2", gpt2);

        var result = await CliProcess.RunAsync(["adapter", "merge", "--model", gpt2, "--adapter", Path.Combine(gpt2, "adapter"), "-o", gpt2]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("already exists and is not empty", result.Stderr);
    }
}
