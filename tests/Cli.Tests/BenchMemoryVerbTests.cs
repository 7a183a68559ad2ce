using System.Text.Json;
using Orchestrator.Trainer.Tests.Instructions;

namespace Orchestrator.Cli.Tests;

/// <summary>`bench memory` on a tiny random llama folder: each combination trains in its own process, measured beside the estimate.</summary>
public sealed class BenchMemoryVerbTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("bench-memory-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private (string Model, string Corpus) TinyLlamaAndCorpus()
    {
        var model = TinyDecoders.Write(Path.Combine(_work, "llama"));
        var corpus = TinyDecoders.WriteJsonl(Path.Combine(_work, "corpus.jsonl"),
            Enumerable.Range(0, 30).Select(i => new { text = $"Story {i}: the cat sat on the mat and the dog ran to the park {i % 3} times." }));
        return (model, corpus);
    }

    [Fact]
    public async Task Bench_memory_measures_each_quantisation_in_its_own_process_beside_the_estimate_as_json()
    {
        var (model, corpus) = TinyLlamaAndCorpus();
        var result = await CliProcess.RunAsync(["bench", "memory", "--model", model, "--dataset", corpus, "--base-dtype", "fp32", "--quantize", "none,nf4", "--double-quant",
            "--rank", "4", "--targets", "q_proj,v_proj", "--batch-size", "2", "--seq-len", "16", "--steps", "1", "--json"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var root = JsonDocument.Parse(result.Stdout).RootElement;
        var rows = root.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(["none", "nf4", "nf4"], rows.Select(r => r.GetProperty("quantize").GetString()));
        Assert.Equal([false, false, true], rows.Select(r => r.GetProperty("double_quant").GetBoolean()));
        Assert.All(rows, r =>
        {
            Assert.Equal("fp32", r.GetProperty("base_dtype").GetString());
            Assert.True(r.GetProperty("peak_memory_bytes").GetInt64() > 0, r.ToString());
            Assert.True(r.GetProperty("estimate_bytes").GetInt64() > 0, r.ToString());
            var error = r.GetProperty("estimate_error").GetDouble();
            Assert.Equal((double)(r.GetProperty("estimate_bytes").GetInt64() - r.GetProperty("peak_memory_bytes").GetInt64()) / r.GetProperty("peak_memory_bytes").GetInt64(), error, 9);
        });
    }

    [Theory]
    [InlineData("--base-dtype", "fp8", "--base-dtype 'fp8' is not allowed; use fp32, bf16, fp16")]
    [InlineData("--quantize", "nf3", "--quantize 'nf3' is not allowed; use none, nf4, int8")]
    [InlineData("--double-quant", null, "--double-quant needs nf4 among --quantize")]
    public async Task Bench_memory_refuses_an_unknown_value_naming_it_and_what_is_allowed(string option, string? value, string message)
    {
        var (model, corpus) = TinyLlamaAndCorpus();
        var result = await CliProcess.RunAsync(["bench", "memory", "--model", model, "--dataset", corpus, option, .. value is null ? Array.Empty<string>() : [value]]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }
}
