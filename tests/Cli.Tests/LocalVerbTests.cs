using System.Text.Json;
using System.Text.RegularExpressions;
using Orchestrator.Client.Commands;
using Orchestrator.Client.Commands.Local;
using Orchestrator.Sweeps;
using Orchestrator.Trials.Configuration;

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
    public async Task Validate_warns_with_file_line_column_when_some_trial_kinds_do_not_report_the_metric()
    {
        var path = Path.Combine(_dir, "partial.yaml");
        File.WriteAllText(path, """
            name: partial
            task: { model: mlp, dataset: mnist }
            metric: { name: train_loss, goal: minimize }
            baselines: [base]
            parameters:
              rank: { values: [2] }
              max_steps: { value: 5 }
            """);
        var result = await Run("validate", path);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(new Regex("warning: " + Regex.Escape(path) + @":3:\d+: metric 'train_loss' is not reported by base trials"), result.Stderr);
    }

    [Theory]
    [InlineData("lora-hf-bayes.yaml", "lora-sweep-rank-lr-v2 (\"LoRA sweep (rank × lr), v2\"): bayes", 5)]
    [InlineData("nested-random.yaml", "nested-random: 100 trials", 5)]
    [InlineData("grid-yaml11.yaml", "my-grid (\"My Grid\"): 3 trials", 0)]
    public async Task Validate_accepts_wandb_style_files_with_one_warning_per_wandb_only_key_or_default(string file, string heading, int warnings)
    {
        var path = Path.Combine("tests", "Sweeps.Tests", "Corpus", "wandb", file);
        var result = await Run("validate", path);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(heading, result.Stdout);
        Assert.Contains("is valid", result.Stdout);
        Assert.Equal(warnings, Regex.Matches(result.Stderr, "warning: " + Regex.Escape(path) + @":\d+:\d+: ").Count);
        AssertNoStackTrace(result);
    }

    [Fact]
    public async Task Validate_of_a_wandb_file_without_task_says_how_to_add_one()
    {
        var path = Path.Combine(_dir, "no-task.yaml");
        File.WriteAllText(path, """
            program: train.py
            method: bayes
            metric: { name: eval/loss, goal: minimize }
            parameters:
              learning_rate: { min: 0.00001, max: 0.001 }
            """);
        var result = await Run("validate", path);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("missing key 'task': name what every trial trains, e.g. task: { model: mlp, dataset: mnist }", result.Stderr);
        AssertNoStackTrace(result);
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
    public async Task Lora_params_with_use_dora_counts_a_magnitude_per_output_feature_too()
    {
        var json = await Run("lora", "params", "--model", "linear:512x256", "--rank", "16", "--use-dora", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.Stdout);
        Assert.Equal(16 * (512 + 256) + 256, document.RootElement.GetProperty("lora_params").GetInt64());
        Assert.True(document.RootElement.GetProperty("use_dora").GetBoolean());
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
    [InlineData("--init", "loftq", "kaiming, gaussian")]
    public async Task Train_with_an_unknown_choice_names_it_and_lists_the_allowed_ones(string option, string value, string allowed)
    {
        var result = await Run("train", option, value, "--out", Path.Combine(_dir, "x"));
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"{option} '{value}'", result.Stderr);
        Assert.Contains(allowed, result.Stderr);
        AssertNoStackTrace(result);
    }

    private TrainingConfig TrainConfig(params string[] options) =>
        TrainCommand.BuildRequest(new TrainCommand().Parse([.. options, "--out", Path.Combine(_dir, "x")])).Config;

    private static TrainingConfig SweepConfig(string parameters)
    {
        var spec = SweepFile.Parse($$"""
            name: same
            task: { model: transformer-block, dataset: synthetic-regression }
            metric: { name: test_mse, goal: minimize }
            parameters:
            {{parameters}}
            """, "same.yaml");
        return Assert.Single(SweepExpander.Expand(spec)).Config;
    }

    private static string Json(TrainingConfig config) => JsonSerializer.Serialize(config with { Seed = 0 });

    [Fact]
    public void Train_and_a_sweep_build_the_same_config_from_the_same_values_and_the_same_defaults()
    {
        Assert.Equal(
            Json(SweepConfig("  rank: { value: 4 }\n  lr: { value: 0.01 }\n  dropout: { value: 0.1 }")),
            Json(TrainConfig("--model", "transformer-block", "--dataset", "synthetic-regression", "--rank", "4", "--lr", "0.01", "--dropout", "0.1")));
        Assert.Equal(Json(SweepConfig("")), Json(TrainConfig("--model", "transformer-block", "--dataset", "synthetic-regression")));
    }

    [Fact]
    public void Train_without_options_is_the_trainers_default_config_alpha_8_and_the_models_default_targets()
    {
        var config = TrainConfig();
        Assert.Equal(JsonSerializer.Serialize(new TrainingConfig()), JsonSerializer.Serialize(config));
        Assert.Equal(8, config.Alpha);
        Assert.Empty(config.TargetModules);
    }

    [Fact]
    public void Each_train_option_is_named_described_and_defaulted_by_the_trainer_rule_table()
    {
        var options = new TrainCommand().Options.ToDictionary(o => o.Name);
        foreach (var rule in TrainingOptions.All.Where(r => r.Kind is not (OptionKind.IntMap or OptionKind.NumberMap)))
        {
            Assert.True(options.TryGetValue(rule.CliName, out var option), $"train has no {rule.CliName}");
            Assert.Equal($"{rule.Help} Default: {rule.DefaultText}.", option.Description);
        }
        Assert.Contains("--targets", options["--target-modules"].Aliases);
    }

    [Theory]
    [InlineData("--rank", "0", "--rank 0 is not allowed; rank must be an integer ≥ 1.")]
    [InlineData("--rank", "x", "--rank 'x' is not allowed; rank must be an integer from 1 to 4096.")]
    [InlineData("--dropout", "1", "--dropout 1 is not allowed; dropout must be a number in [0, 1).")]
    [InlineData("--alpha", "0", "--alpha 0 is not allowed; alpha must be a finite number > 0.")]
    [InlineData("--layers-to-transform", "1,-2", "--layers-to-transform '1,-2' is not allowed; layers_to_transform must be a list of integers, each an integer ≥ 0.")]
    public void Train_with_a_value_its_rule_refuses_names_the_option_the_value_and_the_rule(string option, string value, string message) =>
        Assert.Equal(message, Assert.Throws<UserInputException>(() => TrainConfig(option, value)).Message);

    [Fact]
    public void Train_refuses_an_unknown_target_and_a_config_that_trains_nothing_before_training()
    {
        Assert.Equal("--target-modules: unknown target module 'fc1' for model mlp; its linear modules are l1, l2, l3 (or all-linear).",
            Assert.Throws<UserInputException>(() => TrainConfig("--targets", "fc1")).Message);
        Assert.Equal("--epochs: epochs 0 with max_steps 0 trains nothing; set one of them.",
            Assert.Throws<UserInputException>(() => TrainConfig("--epochs", "0")).Message);
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

    [Fact]
    public async Task Bench_pack_times_packs_of_k_against_the_same_trials_alone()
    {
        var result = await CliProcess.RunAsync(["bench", "pack", "--model", "mlp", "--k", "1,2", "--steps", "6", "--threads", "1", "--json"], timeout: TimeSpan.FromSeconds(180));
        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Stdout);
        var rows = document.RootElement.GetProperty("rows");
        Assert.Equal([1, 2], rows.EnumerateArray().Select(r => r.GetProperty("k").GetInt32()));
        Assert.All(rows.EnumerateArray(), r => Assert.True(r.GetProperty("speedup").GetDouble() > 0));
        Assert.Equal(3, rows[1].GetProperty("packed_trial_steps_per_second").EnumerateObject().Count());
    }

    [Fact]
    public async Task Bench_pack_refuses_an_encoder_with_the_reason_and_a_bad_k_with_the_value()
    {
        var encoder = await Run("bench", "pack", "--model", "minilm-l6");
        Assert.True(encoder.ExitCode == 2, encoder.ToString());
        Assert.Contains("modules_to_save", encoder.Stderr);
        AssertNoStackTrace(encoder);
        var badK = await Run("bench", "pack", "--k", "1,0");
        Assert.True(badK.ExitCode == 2, badK.ToString());
        Assert.Contains("'0'", badK.Stderr);
        AssertNoStackTrace(badK);
    }
}
