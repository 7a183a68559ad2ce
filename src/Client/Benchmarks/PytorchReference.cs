using System.Diagnostics;
using System.Text.Json;
using Orchestrator.Client.Commands;

namespace Orchestrator.Client.Benchmarks;

/// <summary>What the PyTorch eager reference measured.</summary>
public sealed record PytorchMeasurement(double StepsPerSecond, string Version);

/// <summary>
/// Runs the shipped PyTorch eager reference (<c>scripts/bench/pytorch_bert_lora.py</c>, copied next to the binaries)
/// with the system Python: a plain BERT classifier on the same weights, LoRA on query and value, the same step as
/// the bare TorchSharp loop. Debian's <c>python3-torch</c> provides PyTorch.
/// </summary>
public static class PytorchReference
{
    public const string Python = "/usr/bin/python3";
    public static string Script => Path.Combine(AppContext.BaseDirectory, "scripts", "bench", "pytorch_bert_lora.py");

    /// <summary>The decoder reference (<c>scripts/bench/pytorch_decoder_lora.py</c>, on <c>scripts/check/decoder_reference.py</c>'s plain decoders).</summary>
    public static string DecoderScript => Path.Combine(AppContext.BaseDirectory, "scripts", "bench", "pytorch_decoder_lora.py");

    /// <exception cref="UserInputException">PyTorch is not installed, or the script failed.</exception>
    /// <param name="script">The reference to run: <see cref="Script"/> (an encoder) by default, or <see cref="DecoderScript"/>.</param>
    public static async Task<PytorchMeasurement> MeasureAsync(string modelFolder, int batchSize, int sequenceLength, int rank, double alpha,
        int steps, int threads, CancellationToken cancellationToken, string? script = null)
    {
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     script ?? Script, "--model-folder", modelFolder, "--batch-size", $"{batchSize}", "--seq-len", $"{sequenceLength}", "--rank", $"{rank}",
                     "--alpha", alpha.ToString(System.Globalization.CultureInfo.InvariantCulture), "--steps", $"{steps}", "--threads", $"{threads}",
                 })
            start.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new UserInputException($"the PyTorch reference needs {Python} with PyTorch (Debian: apt-get install python3-torch); or pass --no-pytorch.", ExitCodes.NotFound);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                var error = (await stderr).Trim();
                var hint = error.Contains("No module named 'torch'", StringComparison.Ordinal)
                    ? $"PyTorch is not installed for {Python} (Debian: apt-get install python3-torch); or pass --no-pytorch."
                    : $"the PyTorch reference failed: {error.Split('\n')[^1]}";
                throw new UserInputException(hint, ExitCodes.NotFound);
            }
            using var json = JsonDocument.Parse(await stdout);
            return new PytorchMeasurement(json.RootElement.GetProperty("steps_per_second").GetDouble(), json.RootElement.GetProperty("torch").GetString() ?? "?");
        }
    }
}
