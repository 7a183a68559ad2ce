using System.Text.Json.Nodes;
using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Trainer.Tests.Models.Decoders;

/// <summary>Bad decoder folders and seq_len are refused with a clear message before any training: by the config rules and by the loader.</summary>
[Collection(DecoderFoldersCollection.Name)]
public sealed class DecoderInputTests(DecoderFolders folders) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "decoder-input", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    /// <summary>A copy of a reference folder with its config.json edited.</summary>
    private string Copy(string family, Action<JsonObject> edit, bool withWeights = true)
    {
        var source = folders.Of(family);
        var folder = Path.Combine(_root, family + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(source).Where(f => withWeights || !Path.GetFileName(f).StartsWith("model", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!.AsObject();
        edit(config);
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        return folder;
    }

    private static string ProblemsOf(string folder, int seqLen = 8) =>
        string.Join("\n", TrainingOptions.Problems(new TrainingConfig { Model = folder, Dataset = "text", SequenceLength = seqLen, TargetModules = ["q_proj"] })
            .Select(p => p.Message));

    [Fact]
    public void An_unknown_model_type_is_refused_naming_the_supported_ones()
    {
        var folder = Copy("llama", c => c["model_type"] = "falcon");
        var error = Assert.Throws<InvalidDataException>(() => CausalLanguageModels.FromPretrained(folder));
        Assert.Contains("'falcon'", error.Message);
        Assert.Contains("llama, mistral, qwen2, qwen3, gpt2", error.Message);
        Assert.Contains("model_type 'falcon'", ProblemsOf(folder));
    }

    [Fact]
    public void A_seq_len_beyond_the_model_positions_is_a_config_problem()
    {
        var problems = ProblemsOf(folders.Of("gpt2"), seqLen: 17);
        Assert.Contains("seq_len must be at most 16", problems);
        Assert.Empty(TrainingOptions.Problems(new TrainingConfig { Model = folders.Of("gpt2"), Dataset = "text", SequenceLength = 16, TargetModules = ["c_attn"] }));
    }

    [Fact]
    public void Gpt2_refuses_more_tokens_than_its_learned_positions()
    {
        using var model = CausalLanguageModels.FromPretrained(folders.Of("gpt2"));
        var error = Assert.Throws<ArgumentException>(() => model.Logits(TorchSharp.torch.zeros(1, 17, TorchSharp.torch.ScalarType.Int64)));
        Assert.Contains("n_positions", error.Message);
    }

    [Fact]
    public void An_unknown_rope_scaling_type_is_refused_naming_the_supported_ones()
    {
        var folder = Copy("llama", c => c["rope_scaling"] = new JsonObject { ["rope_type"] = "yarn", ["factor"] = 4.0 });
        var error = Assert.Throws<InvalidDataException>(() => CausalLanguageModels.FromPretrained(folder));
        Assert.Contains("rope_scaling type 'yarn' is not supported (supported: default, linear, dynamic, llama3)", error.Message);
        Assert.Contains("'yarn'", ProblemsOf(folder));
    }

    [Fact]
    public void A_folder_without_weights_is_refused_naming_the_files_it_looked_for()
    {
        var folder = Copy("qwen2", _ => { }, withWeights: false);
        var error = Assert.Throws<FileNotFoundException>(() => CausalLanguageModels.FromPretrained(folder));
        Assert.Contains("neither model.safetensors nor model.safetensors.index.json", error.Message);
        Assert.Contains("has no weights", ProblemsOf(folder));
    }

    [Fact]
    public void A_shard_index_naming_a_missing_shard_is_refused()
    {
        var folder = Copy("qwen3", _ => { });
        File.Delete(Path.Combine(folder, "model-00002-of-00002.safetensors"));
        var error = Assert.Throws<FileNotFoundException>(() => CausalLanguageModels.FromPretrained(folder));
        Assert.Contains("model-00002-of-00002.safetensors", error.Message);
    }
}
