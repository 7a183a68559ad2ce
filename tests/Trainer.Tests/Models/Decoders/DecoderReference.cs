using System.Diagnostics;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trials.Configuration;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Models.Decoders;

/// <summary>
/// scripts/check/decoder_reference.py, run with Debian's python3-torch: it writes a random Hugging Face folder of one
/// family (and a PEFT adapter) and the logits its own plain PyTorch implementation computes on fixed tokens.
/// </summary>
internal static class DecoderReference
{
    public const string Python = "/usr/bin/python3";

    public static readonly string[] Families = ["llama", "mistral", "qwen2", "qwen3", "gpt2"];

    public static void Write(string family, string folder)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "References", "decoder_reference.py");
        var start = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(family);
        start.ArgumentList.Add(folder);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"decoder_reference.py {family} failed: {stderr.Result}");
    }

    /// <summary>Injects the folder's adapter/ (PEFT) into <paramref name="model"/> with its trained lora_A and lora_B.</summary>
    public static void ApplyAdapter(nn.Module model, string adapterFolder)
    {
        var (weights, peft) = PeftAdapter.Load(adapterFolder);
        try
        {
            LoraInjector.Inject(model, new TrainingConfig { Rank = peft.R, Alpha = peft.LoraAlpha, TargetModules = peft.TargetModules!.ToList() }, seed: 0);
            LoraWeights.Set(model, weights);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }
}
