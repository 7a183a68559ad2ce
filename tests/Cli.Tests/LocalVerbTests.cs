using System.Text.Json;
using System.Text.RegularExpressions;

namespace Orchestrator.Cli.Tests;

/// <summary>The verbs that need no cluster, driven through the real binary.</summary>
public sealed class LocalVerbTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cli-tests-" + Guid.NewGuid().ToString("N"));

    public LocalVerbTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static Task<CliResult> Run(params string[] args) => CliProcess.RunAsync(args);

    private static void AssertNoStackTrace(CliResult result)
    {
        Assert.DoesNotContain("   at ", result.Stdout + result.Stderr);
        Assert.DoesNotContain("Exception", result.Stderr);
    }

    [Fact]
    public async Task Help_lists_the_verbs()
    {
        var result = await Run("--help");
        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var verb in new[] { "validate", "lora", "train", "estimate", "bench" })
            Assert.Contains(verb, result.Stdout);
    }

    [Fact]
    public async Task Unknown_verb_exits_1_with_a_message()
    {
        var result = await Run("frobnicate");
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("unknown verb 'frobnicate'", result.Stderr);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Validate_on_a_good_sweep_prints_the_trial_table()
    {
        var result = await Run("validate", "sweeps/mnist-smoke.yaml");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(new Regex(@"^trial\s+kind\s+", RegexOptions.Multiline), result.Stdout);
        Assert.Equal(3, Regex.Matches(result.Stdout, @"^t[0-9a-f]{12}\s+(lora|full)\b", RegexOptions.Multiline).Count);
        Assert.Contains("is valid", result.Stdout);
        Assert.DoesNotContain("\u001b[", result.Stdout);
    }

    [Fact]
    public async Task Validate_json_lists_every_trial()
    {
        var result = await Run("validate", "sweeps/mnist-smoke.yaml", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.True(json.RootElement.GetProperty("valid").GetBoolean());
        Assert.Equal(3, json.RootElement.GetProperty("trialCount").GetInt32());
        Assert.Equal(3, json.RootElement.GetProperty("trials").GetArrayLength());
    }

    [Fact]
    public async Task Validate_on_a_bad_sweep_exits_2_with_file_line_column_problems()
    {
        var path = Path.Combine(_dir, "bad.yaml");
        File.WriteAllText(path, """
            name: bad
            task: { model: mlp, dataset: mnist }
            metric: { name: test_accuracy, goal: maximize }
            parameters:
              rank: { values: [0, 8] }
              learning_rate: { value: 0.001 }
            """);
        var result = await Run("validate", path);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Matches(new Regex(Regex.Escape(path) + @":\d+:\d+: \S"), result.Stderr);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Validate_on_a_missing_file_is_a_clear_error()
    {
        var result = await Run("validate", Path.Combine(_dir, "missing.yaml"));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("missing.yaml", result.Stderr);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Lora_params_of_a_512_square_layer_at_rank_16_is_16384()
    {
        var text = await Run("lora", "params", "--model", "linear:512x512", "--rank", "16");
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("16,384", text.Stdout);

        var json = await Run("lora", "params", "--model", "linear:512x512", "--rank", "16", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.Stdout);
        Assert.Equal(16384, document.RootElement.GetProperty("trainable_params").GetInt64());
    }

    [Fact]
    public async Task Lora_params_with_a_bad_rank_names_the_value()
    {
        var result = await Run("lora", "params", "--model", "mlp", "--rank", "0");
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--rank 0", result.Stderr);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Lora_params_with_unknown_targets_lists_the_linear_modules()
    {
        var result = await Run("lora", "params", "--model", "mlp", "--rank", "4", "--targets", "nope");
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("l1", result.Stderr);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Train_a_tiny_mlp_writes_a_peft_adapter_and_result_json()
    {
        var output = Path.Combine(_dir, "run");
        var result = await CliProcess.RunAsync(
            ["train", "--model", "mlp", "--dataset", "mnist", "--adapter", "lora", "--rank", "4", "--alpha", "8",
             "--targets", "l1,l2,l3", "--bias", "lora_only", "--use-rslora", "--schedule", "cosine", "--warmup-steps", "5",
             "--lr", "0.001", "--max-steps", "20", "--seed", "1", "--out", output, "--json"],
            timeout: TimeSpan.FromSeconds(180));
        Assert.True(result.ExitCode == 0, result.ToString());
        var files = Directory.GetFiles(output, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.Contains("adapter_model.safetensors", files);
        Assert.Contains("adapter_config.json", files);
        Assert.Contains("result.json", files);
        using var document = JsonDocument.Parse(result.Stdout);
        Assert.Equal(20, document.RootElement.GetProperty("steps").GetInt64());
        Assert.True(document.RootElement.GetProperty("metrics").TryGetProperty("test_accuracy", out _), result.Stdout);
        Assert.True(Directory.Exists(Path.Combine(_dir, ".orchestrator-bases")), "the base cache sits next to --out");
        using var peft = JsonDocument.Parse(File.ReadAllText(Directory.GetFiles(output, "adapter_config.json", SearchOption.AllDirectories).Single()));
        Assert.Equal("lora_only", peft.RootElement.GetProperty("bias").GetString());
        Assert.True(peft.RootElement.GetProperty("use_rslora").GetBoolean());
        var weights = File.ReadAllText(Directory.GetFiles(output, "adapter_model.safetensors", SearchOption.AllDirectories).Single(), System.Text.Encoding.Latin1);
        Assert.Contains("\"base_model.model.l1.base_layer.bias\"", weights); // the trained bias travels with the adapter
    }

    [Theory]
    [InlineData("--adapter", "qlora", "lora, full, base")]
    [InlineData("--bias", "some", "none, all, lora_only")]
    [InlineData("--schedule", "step", "constant, linear, cosine")]
    [InlineData("--init", "pissa", "kaiming, gaussian")]
    public async Task Train_with_an_unknown_choice_names_it_and_lists_the_allowed_ones(string option, string value, string allowed)
    {
        var result = await Run("train", option, value, "--out", Path.Combine(_dir, "x"));
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"{option} '{value}'", result.Stderr);
        Assert.Contains(allowed, result.Stderr);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Estimate_a_7B_model_at_rank_16()
    {
        var text = await Run("estimate", "--params", "7B", "--rank", "16");
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("LoRA", text.Stdout);
        Assert.Contains("full fine-tuning", text.Stdout);
        Assert.Contains("GiB", text.Stdout);

        var json = await Run("estimate", "--params", "7B", "--rank", "16", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.Stdout);
        // Llama 2 7B: 32 layers, q and v are 4096x4096: 32 * 2 * 16 * (4096 + 4096).
        Assert.Equal(8_388_608, document.RootElement.GetProperty("loraParameters").GetInt64());
        Assert.True(document.RootElement.GetProperty("savings").GetDouble() > 0.5);
    }

    [Fact]
    public async Task Estimate_a_sweep_gives_memory_per_trial()
    {
        var result = await Run("estimate", "sweeps/mnist-smoke.yaml", "--gpu-memory", "24GB", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Stdout);
        var trials = document.RootElement.GetProperty("trials");
        Assert.Equal(3, trials.GetArrayLength());
        Assert.All(trials.EnumerateArray(), t => Assert.True(t.GetProperty("trialsPerGpu").GetInt32() > 0));
    }

    [Fact]
    public async Task Estimate_sizes_every_trial_of_every_shipped_sweep()
    {
        foreach (var sweep in Directory.GetFiles(Path.Combine(CliProcess.RepositoryRoot, "sweeps"), "*.yaml"))
        {
            var result = await Run("estimate", sweep, "--json");
            Assert.True(result.ExitCode == 0, sweep + "\n" + result);
            Assert.DoesNotContain("warning:", result.Stderr);
            using var document = JsonDocument.Parse(result.Stdout);
            Assert.All(document.RootElement.GetProperty("trials").EnumerateArray(),
                t => Assert.True(t.GetProperty("memory").GetProperty("totalBytes").GetInt64() > 0, sweep));
        }
    }

    [Fact]
    public async Task Estimate_with_a_bad_gpu_memory_names_the_value()
    {
        var result = await Run("estimate", "--params", "7B", "--gpu-memory", "lots");
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("'lots'", result.Stderr);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Bench_trainer_times_the_trainer_against_a_bare_loop()
    {
        var result = await CliProcess.RunAsync(["bench", "trainer", "--model", "mlp", "--steps", "6", "--threads", "1", "--json"], timeout: TimeSpan.FromSeconds(120));
        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Stdout);
        Assert.True(document.RootElement.GetProperty("trainer_steps_per_second").GetDouble() > 0);
        Assert.True(document.RootElement.GetProperty("bare_steps_per_second").GetDouble() > 0);
    }

    [Fact]
    public async Task Bench_trainer_with_an_unknown_model_lists_the_benchmarks()
    {
        var result = await Run("bench", "trainer", "--model", "llama");
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("mlp, transformer-block", result.Stderr);
        AssertNoStackTrace(result);
    }
}
