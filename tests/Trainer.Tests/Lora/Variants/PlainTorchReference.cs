using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Lora.Variants;

/// <summary>
/// Runs References/lora_variants_reference.py (plain torch on Debian's /usr/bin/python3, written from the papers'
/// definitions, no peft) on one case and returns its answer. Tensors travel as nested JSON lists.
/// </summary>
internal static class PlainTorchReference
{
    public const string Python = "/usr/bin/python3";

    public static JsonElement Run(JsonObject input)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "References", "lora_variants_reference.py");
        var directory = Directory.CreateTempSubdirectory("lora-variants-reference-");
        try
        {
            var inPath = Path.Combine(directory.FullName, "in.json");
            var outPath = Path.Combine(directory.FullName, "out.json");
            File.WriteAllText(inPath, input.ToJsonString());
            using var process = Process.Start(new ProcessStartInfo(Python, [script, inPath, outPath])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            }) ?? throw new InvalidOperationException($"could not start {Python}");
            var stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"{Python} {script} failed ({process.ExitCode}): {stderr.Result}");
            using var document = JsonDocument.Parse(File.ReadAllText(outPath));
            return document.RootElement.Clone();
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>A 1-D or 2-D tensor as nested lists of doubles (exact for float32 values).</summary>
    public static JsonNode ToJson(Tensor tensor)
    {
        using var cpu = tensor.detach().cpu().to(ScalarType.Float64);
        var values = cpu.data<double>().ToArray();
        if (tensor.dim() == 1) return new JsonArray(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());
        var columns = (int)tensor.shape[1];
        return new JsonArray(Enumerable.Range(0, (int)tensor.shape[0])
            .Select(r => (JsonNode)new JsonArray(values.Skip(r * columns).Take(columns).Select(v => (JsonNode)JsonValue.Create(v)).ToArray())).ToArray());
    }

    /// <summary>A nested JSON list back as a float32 tensor.</summary>
    public static Tensor ToTensor(JsonElement element)
    {
        if (element[0].ValueKind == JsonValueKind.Number)
            return tensor(element.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray());
        var rows = element.EnumerateArray().Select(r => r.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray()).ToArray();
        return tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);
    }

    /// <summary>The largest absolute difference between two tensors of one shape.</summary>
    public static double MaxAbsDifference(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var difference = actual.detach().cpu().to(ScalarType.Float64).sub(expected.detach().cpu().to(ScalarType.Float64)).abs().max();
        return difference.item<double>();
    }
}
