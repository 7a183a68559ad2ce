using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Orchestrator.Trainer.Models.HuggingFace;
using Orchestrator.Trainer.Tests.Models.HuggingFace;

namespace Orchestrator.Cli.Tests.EndToEnd;

/// <summary>
/// Pretrained encoders through the real binary: a user's own Hugging Face BERT folder with their own JSONL, and the
/// named `minilm-l6` on the named `imdb`, fetched on first use into a fresh cache and published to the sweep's store.
/// </summary>
public sealed class EncoderSweepTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("orchestrator-encoders-").FullName;

    [Fact]
    public async Task A_users_own_BERT_folder_and_jsonl_run_as_a_sweep_and_write_PEFT_adapters_with_the_classifier_as_modules_to_save()
    {
        var model = TinyEncoders.Write(Path.Combine(_work, "my-bert"), EncoderFamily.Bert, seed: 3);
        var data = TinyEncoders.WriteToyJsonl(Path.Combine(_work, "reviews.jsonl"));
        var sweep = Path.Combine(_work, "own-bert.yaml");
        await File.WriteAllTextAsync(sweep, $$"""
            name: own-bert
            seed: 1
            task: { model: {{model}}, dataset: {{data}} }
            metric: { name: val_accuracy, goal: maximize }
            method: grid
            parallel: 1
            baselines: [base]
            parameters:
              rank: { values: [2, 4] }
              target_modules: { value: [query, value] }
              lr: { value: 5.0e-3 }
              batch_size: { value: 8 }
              seq_len: { value: 12 }
              max_steps: { value: 10 }
            """);
        var dataDir = Path.Combine(_work, "data");

        var run = await CliProcess.RunAsync(["run", sweep, "--data-dir", dataDir], _work, TimeSpan.FromMinutes(4));

        Assert.True(run.ExitCode == 0, run.ToString());
        var board = await LeaderboardAsync("own-bert", dataDir);
        Assert.True(board.Count == 3, run.ToString());
        Assert.All(board, e => Assert.InRange(e.GetProperty("score").GetDouble(), 0, 1));
        var trials = Path.Combine(dataDir, "artifacts", "sweeps", "own-bert", "trials");
        var adapters = Directory.GetFiles(trials, "adapter_model.safetensors", SearchOption.AllDirectories);
        Assert.Equal(2, adapters.Length); // the two ranks; the frozen-base probe writes its head, not an adapter
        foreach (var adapter in adapters)
        {
            var keys = SafetensorsKeys(adapter);
            Assert.Contains("base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight", keys);
            Assert.Contains("base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight", keys);
            Assert.Contains("base_model.model.classifier.weight", keys);
            using var config = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Path.GetDirectoryName(adapter)!, "adapter_config.json")));
            Assert.Equal(model, config.RootElement.GetProperty("base_model_name_or_path").GetString());
            Assert.Equal("classifier", Assert.Single(config.RootElement.GetProperty("modules_to_save").EnumerateArray()).GetString());
        }
    }

    [Fact]
    public async Task A_sweep_naming_minilm_l6_and_imdb_fetches_both_once_publishes_them_to_the_store_and_keeps_the_names_in_results()
    {
        var sweep = Path.Combine(_work, "named.yaml");
        await File.WriteAllTextAsync(sweep, """
            name: named-encoder
            seed: 1
            task: { model: minilm-l6, dataset: imdb }
            metric: { name: test_accuracy, goal: maximize }
            method: grid
            parallel: 1
            parameters:
              rank: { values: [1, 2] }
              lr: { value: 1.0e-3 }
              batch_size: { value: 4 }
              seq_len: { value: 16 }
              max_steps: { value: 2 }
              max_train_samples: { value: 32 }
              max_eval_samples: { value: 8 }
            """);
        var dataDir = Path.Combine(_work, "data");
        var cache = Path.Combine(_work, "cache");
        var environment = new Dictionary<string, string> { ["LORA_ORCHESTRATOR_CACHE"] = cache };

        var run = await CliProcess.RunAsync(["run", sweep, "--data-dir", dataDir], _work, TimeSpan.FromMinutes(4), environment);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(2, (await LeaderboardAsync("named-encoder", dataDir)).Count);
        var store = Path.Combine(dataDir, "artifacts", "bases");
        Assert.True(File.Exists(Path.Combine(store, "models", "minilm-l6", "24.9.52193", "manifest.json")), "the converted model is not in the store");
        Assert.True(File.Exists(Path.Combine(store, "models", "minilm-l6", "24.9.52193", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(store, "datasets", "imdb", "train.jsonl")), "the prepared IMDB splits are not in the store");
        Assert.True(File.Exists(Path.Combine(cache, "models", "minilm-l6", "manifest.json")));

        var results = Directory.GetFiles(Path.Combine(dataDir, "artifacts", "sweeps", "named-encoder", "trials"), "result.json", SearchOption.AllDirectories);
        Assert.Equal(2, results.Length);
        foreach (var result in results)
        {
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(result));
            var config = json.RootElement.GetProperty("config");
            Assert.Equal("minilm-l6", config.GetProperty("model").GetString());
            Assert.Equal("imdb", config.GetProperty("dataset").GetString());
        }
        var adapterConfig = Directory.GetFiles(Path.Combine(dataDir, "artifacts", "sweeps", "named-encoder"), "adapter_config.json", SearchOption.AllDirectories).First();
        using var peft = JsonDocument.Parse(await File.ReadAllTextAsync(adapterConfig));
        Assert.Equal("sentence-transformers/all-MiniLM-L6-v2", peft.RootElement.GetProperty("base_model_name_or_path").GetString());
        Assert.Equal(["query", "value"], peft.RootElement.GetProperty("target_modules").EnumerateArray().Select(t => t.GetString()!).Order().ToArray());
    }

    private async Task<List<JsonElement>> LeaderboardAsync(string sweep, string dataDir)
    {
        var board = await CliProcess.RunAsync(["leaderboard", sweep, "--data-dir", dataDir, "--format", "json"], _work, TimeSpan.FromMinutes(2));
        Assert.True(board.ExitCode == 0, board.ToString());
        return JsonDocument.Parse(board.Stdout).RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }

    /// <summary>The tensor names in a safetensors file's header (8-byte little-endian length, then JSON).</summary>
    private static IReadOnlyList<string> SafetensorsKeys(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, length));
        return header.RootElement.EnumerateObject().Select(p => p.Name).Where(n => n != "__metadata__").ToList();
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}
