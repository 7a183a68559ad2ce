using System.Reflection;
using Orchestrator.Trainer.Models.Llama;
using Orchestrator.Trainer.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Llama;

public sealed class LlamaModelTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("llama-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static readonly LlamaConfig Tiny = new()
    {
        VocabSize = 64,
        HiddenSize = 32,
        IntermediateSize = 64,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        MaxPositionEmbeddings = 128,
    };

    private static Tensor Tokens(long seed, long batch = 2, long tokens = 10) =>
        torch.randint(0, Tiny.VocabSize, [batch, tokens], generator: new torch.Generator((ulong)seed), dtype: ScalarType.Int64);

    [Fact]
    public void A_tiny_checkpoint_saved_and_loaded_back_gives_identical_logits()
    {
        using var scope = torch.NewDisposeScope();
        using var original = LlamaModel.Create(Tiny, seed: 1);
        original.eval();
        var ids = Tokens(3);
        var expected = original.forward(ids);
        Assert.Equal([2L, 10L, 64L], expected.shape);

        original.SavePretrained(_directory);
        using var loaded = LlamaModel.FromPretrained(_directory);
        loaded.eval();
        var actual = loaded.forward(ids);

        Assert.Equal(expected.bytes.ToArray(), actual.bytes.ToArray());
        Assert.Equal(2, loaded.Config.KeyValueHeads);
        Assert.True(File.Exists(Path.Combine(_directory, "config.json")));
    }

    [Fact]
    public void Module_paths_and_tensor_names_are_Hugging_Faces()
    {
        using var llama = LlamaModel.Create(Tiny, seed: 1);
        var modules = llama.named_modules().Select(m => m.name).ToHashSet();
        foreach (var layer in new[] { 0, 1 })
        {
            foreach (var proj in new[] { "q_proj", "k_proj", "v_proj", "o_proj" })
                Assert.Contains($"model.layers.{layer}.self_attn.{proj}", modules);
            foreach (var proj in new[] { "gate_proj", "up_proj", "down_proj" })
                Assert.Contains($"model.layers.{layer}.mlp.{proj}", modules);
        }
        Assert.Contains("lm_head", modules);

        var expected = new List<string> { "model.embed_tokens.weight", "model.norm.weight", "lm_head.weight" };
        foreach (var layer in new[] { 0, 1 })
        {
            expected.Add($"model.layers.{layer}.input_layernorm.weight");
            expected.Add($"model.layers.{layer}.post_attention_layernorm.weight");
            expected.AddRange(new[] { "q_proj", "k_proj", "v_proj", "o_proj" }.Select(p => $"model.layers.{layer}.self_attn.{p}.weight"));
            expected.AddRange(new[] { "gate_proj", "up_proj", "down_proj" }.Select(p => $"model.layers.{layer}.mlp.{p}.weight"));
        }
        var names = llama.state_dict().Keys.ToList();
        Assert.Equal(expected.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
        // Grouped-query attention: 2 key/value heads of width 8.
        Assert.Equal([16L, 32L], llama.state_dict()["model.layers.0.self_attn.k_proj.weight"].shape);
        Assert.Equal([32L, 32L], llama.state_dict()["model.layers.0.self_attn.q_proj.weight"].shape);
    }

    [Fact]
    public void Linear_modules_live_in_fields_named_after_them_typed_Module_of_Tensor_to_Tensor()
    {
        using var llama = LlamaModel.Create(Tiny, seed: 1);
        var attention = llama.named_modules().Single(m => m.name == "model.layers.0.self_attn").module;
        var mlp = llama.named_modules().Single(m => m.name == "model.layers.0.mlp").module;
        foreach (var (owner, field) in new[] { (attention, "q_proj"), (attention, "o_proj"), (mlp, "down_proj"), ((nn.Module)llama, "lm_head") })
        {
            var info = owner.GetType().GetField(field, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);
            Assert.NotNull(info);
            Assert.Equal(typeof(nn.Module<Tensor, Tensor>), info.FieldType);
        }
    }

    [Fact]
    public void Changing_a_later_token_does_not_change_earlier_logits()
    {
        using var scope = torch.NewDisposeScope();
        using var llama = LlamaModel.Create(Tiny, seed: 2);
        llama.eval();
        var ids = Tokens(5, batch: 1, tokens: 12);
        var changed = ids.clone();
        changed[0, 7] = (ids[0, 7] + 1) % Tiny.VocabSize;

        var before = llama.forward(ids);
        var after = llama.forward(changed);

        var prefix = TensorIndex.Slice(null, 7);
        Assert.True(before[.., prefix].allclose(after[.., prefix], rtol: 0, atol: 1e-6));
        Assert.False(before[.., 7..].allclose(after[.., 7..], rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Tied_embeddings_save_without_lm_head_and_load_back()
    {
        using var scope = torch.NewDisposeScope();
        var config = Tiny with { TieWordEmbeddings = true };
        using var original = LlamaModel.Create(config, seed: 4);
        original.SavePretrained(_directory);
        var header = SafetensorsFile.ReadHeader(Path.Combine(_directory, LlamaModel.WeightsFileName));
        Assert.DoesNotContain(header.Tensors, t => t.Name == "lm_head.weight");

        using var loaded = LlamaModel.FromPretrained(_directory);
        var ids = Tokens(6);
        Assert.Equal(original.forward(ids).bytes.ToArray(), loaded.forward(ids).bytes.ToArray());
    }

    [Fact]
    public void A_checkpoint_missing_tensors_is_refused_with_their_names()
    {
        using var scope = torch.NewDisposeScope();
        using var original = LlamaModel.Create(Tiny, seed: 1);
        original.SavePretrained(_directory);
        var weightsPath = Path.Combine(_directory, LlamaModel.WeightsFileName);
        var (tensors, metadata) = SafetensorsFile.ReadAll(weightsPath);
        tensors.Remove("model.norm.weight");
        tensors.Remove("model.layers.1.mlp.up_proj.weight");
        tensors["model.layers.0.self_attn.q_proj.weight"] = torch.zeros(8, 32);
        SafetensorsFile.Write(weightsPath, tensors, metadata);

        var error = Assert.Throws<InvalidDataException>(() => LlamaModel.FromPretrained(_directory));
        Assert.Contains("model.norm.weight", error.Message);
        Assert.Contains("model.layers.1.mlp.up_proj.weight", error.Message);
        Assert.Contains("shape mismatch: model.layers.0.self_attn.q_proj.weight", error.Message);
    }

    [Fact]
    public void A_Hugging_Face_config_json_reads_with_defaults_for_what_it_leaves_out()
    {
        const string json = """
            {"architectures": ["LlamaForCausalLM"], "hidden_size": 2048, "intermediate_size": 8192, "num_attention_heads": 32,
             "num_hidden_layers": 16, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "vocab_size": 128256,
             "max_position_embeddings": 131072, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "bos_token_id": 128000,
             "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
            """;
        var config = LlamaConfig.FromJson(json);
        Assert.Equal(64, config.HeadDimension);
        Assert.Equal(8, config.KeyValueHeads);
        Assert.Equal(500000.0, config.RopeTheta);
        Assert.Equal("llama3", config.RopeScaling!.Type);
        Assert.True(config.TieWordEmbeddings);
    }

    [Fact]
    public void Grouped_query_attention_equals_full_attention_with_each_key_value_head_repeated_for_its_group()
    {
        using var scope = torch.NewDisposeScope();
        using var grouped = LlamaModel.Create(Tiny, seed: 8);
        grouped.SavePretrained(_directory);
        var weightsPath = Path.Combine(_directory, LlamaModel.WeightsFileName);
        var (tensors, metadata) = SafetensorsFile.ReadAll(weightsPath);
        const int headDim = 8, groups = 2;
        foreach (var name in tensors.Keys.Where(n => n.EndsWith("k_proj.weight") || n.EndsWith("v_proj.weight")).ToList())
        {
            // Query head i reads key/value head i / groups (repeat_kv's order).
            var heads = Enumerable.Range(0, Tiny.NumAttentionHeads)
                .Select(i => tensors[name].narrow(0, i / groups * headDim, headDim)).ToArray();
            tensors[name] = torch.cat(heads, 0);
        }
        SafetensorsFile.Write(weightsPath, tensors, metadata);
        File.WriteAllText(Path.Combine(_directory, LlamaConfig.FileName), (Tiny with { NumKeyValueHeads = 4 }).ToJson());

        using var full = LlamaModel.FromPretrained(_directory);
        var ids = Tokens(9);
        Assert.True(grouped.forward(ids).allclose(full.forward(ids), rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void Tied_embeddings_share_one_parameter()
    {
        using var llama = LlamaModel.Create(Tiny with { TieWordEmbeddings = true }, seed: 3);
        var state = llama.state_dict();
        using (torch.no_grad()) state["model.embed_tokens.weight"].fill_(0.5);
        Assert.Equal(0.5f, state["lm_head.weight"].mean().ToSingle());
        Assert.DoesNotContain(llama.named_parameters(), p => p.name == "lm_head.weight");
        Assert.Equal(20, llama.parameters().Count());
    }
}
