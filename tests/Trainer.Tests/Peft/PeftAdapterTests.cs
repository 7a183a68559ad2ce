using System.Text.Json;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Peft;

public sealed class PeftAdapterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("peft-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static readonly string[] Paths = ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj"];

    [Fact]
    public void Saved_adapter_loads_back_bit_for_bit_with_the_same_config()
    {
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator(7);
        var weights = new Dictionary<string, Tensor>();
        foreach (var path in Paths)
        {
            weights[PeftAdapter.LoraAKey(path)] = torch.randn([4, 32], generator: generator);
            weights[PeftAdapter.LoraBKey(path)] = torch.randn([48, 4], generator: generator);
        }
        var config = PeftAdapterConfig.FromTrainingConfig(
            new TrainingConfig { Model = "llama", Rank = 4, Alpha = 16, TargetModules = ["q_proj", "v_proj"], Dropout = 0.05, Init = LoraInitMethod.Gaussian, UseRslora = true },
            Paths, "tiny-llama");

        PeftAdapter.Save(_directory, weights, config);
        var (loaded, loadedConfig) = PeftAdapter.Load(_directory);
        foreach (var t in loaded.Values) t.MoveToOuterDisposeScope();

        Assert.Equal(weights.Keys.Order(), loaded.Keys.Order());
        foreach (var (key, tensor) in weights)
        {
            Assert.Equal(tensor.shape, loaded[key].shape);
            Assert.Equal(tensor.bytes.ToArray(), loaded[key].bytes.ToArray());
            loaded[key].Dispose();
        }
        Assert.Equal(config.ToJson(), loadedConfig.ToJson());
        Assert.Equal(16 / Math.Sqrt(4), loadedConfig.Scaling);
        Assert.Equal("pt", SafetensorsFile.ReadHeader(Path.Combine(_directory, PeftAdapter.WeightsFileName)).Metadata["format"]);
    }

    [Theory]
    [InlineData(BiasMode.All)]
    [InlineData(BiasMode.LoraOnly)]
    public void An_adapter_with_trained_biases_saves_them_under_PEFTs_keys_and_a_fresh_model_loaded_from_it_answers_identically(BiasMode bias)
    {
        using var scope = torch.NewDisposeScope();
        var config = new TrainingConfig { Model = "mlp", Rank = 2, Alpha = 4, TargetModules = ["l1", "l2"], Bias = bias };
        using var trained = new Orchestrator.Trainer.Models.MlpModel(1);
        var injection = Orchestrator.Trainer.Lora.LoraInjector.Inject(trained, config, 1);
        using (torch.no_grad())
            foreach (var (name, p) in trained.named_parameters())
                if (p.requires_grad) p.add_(torch.full_like(p, 0.125f));
        PeftAdapter.Save(_directory, Orchestrator.Trainer.Lora.LoraWeights.Get(trained), PeftAdapterConfig.FromTrainingConfig(config, injection.Modules.Select(m => m.Path).ToList(), "mlp"));

        var (loaded, loadedConfig) = PeftAdapter.Load(_directory);
        Assert.Equal(bias, loadedConfig.Bias);
        Assert.Contains("base_model.model.l1.base_layer.bias", loaded.Keys);
        Assert.Contains("base_model.model.l2.base_layer.bias", loaded.Keys);
        Assert.Equal(bias == BiasMode.All, loaded.ContainsKey("base_model.model.l3.bias"));
        using var fresh = new Orchestrator.Trainer.Models.MlpModel(1);
        Orchestrator.Trainer.Lora.LoraInjector.Inject(fresh, config, 1);
        Orchestrator.Trainer.Lora.LoraWeights.Set(fresh, loaded);
        trained.eval();
        fresh.eval();
        var x = torch.rand([8, 784], generator: new torch.Generator(3));
        Assert.Equal(trained.forward(x).data<float>().ToArray(), fresh.forward(x).data<float>().ToArray());
    }

    [Fact]
    public void Adapter_config_has_every_key_PEFT_requires_sorted_like_PEFT_writes_them()
    {
        var config = PeftAdapterConfig.FromTrainingConfig(
            new TrainingConfig { Model = "llama", Rank = 8, Alpha = 16, TargetModules = ["all-linear"], LayersToTransform = [0, 1] },
            Paths, "meta-llama/tiny");
        var json = config.ToJson();
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var keys = root.EnumerateObject().Select(p => p.Name).ToArray();

        string[] required =
        [
            "alpha_pattern", "auto_mapping", "base_model_name_or_path", "bias", "fan_in_fan_out", "inference_mode",
            "init_lora_weights", "layer_replication", "layers_pattern", "layers_to_transform", "loftq_config", "lora_alpha",
            "lora_dropout", "megatron_config", "megatron_core", "modules_to_save", "peft_type", "r", "rank_pattern",
            "revision", "target_modules", "task_type", "use_dora", "use_rslora",
        ];
        Assert.Equal(required, keys);
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
        Assert.Equal("LORA", root.GetProperty("peft_type").GetString());
        Assert.Equal("CAUSAL_LM", root.GetProperty("task_type").GetString());
        Assert.Equal(8, root.GetProperty("r").GetInt32());
        Assert.Equal("16", root.GetProperty("lora_alpha").GetRawText());
        Assert.Equal("0.0", root.GetProperty("lora_dropout").GetRawText());
        Assert.Equal(JsonValueKind.True, root.GetProperty("init_lora_weights").ValueKind);
        Assert.Equal(JsonValueKind.False, root.GetProperty("fan_in_fan_out").ValueKind);
        Assert.Equal(JsonValueKind.True, root.GetProperty("inference_mode").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("modules_to_save").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("revision").ValueKind);
        Assert.Equal("{}", root.GetProperty("rank_pattern").GetRawText());
        Assert.Equal(["q_proj", "v_proj"], root.GetProperty("target_modules").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([0, 1], root.GetProperty("layers_to_transform").EnumerateArray().Select(e => e.GetInt32()));
        Assert.StartsWith("{\n  \"alpha_pattern\": {},\n  \"auto_mapping\": null,\n", json);
    }

    [Fact]
    public void Gaussian_init_and_a_target_regex_are_written_as_PEFT_strings()
    {
        var config = PeftAdapterConfig.FromTrainingConfig(
            new TrainingConfig { Init = LoraInitMethod.Gaussian, TargetModulesRegex = @".*\.q_proj", Dropout = 0.1 }, Paths, "base");
        using var document = JsonDocument.Parse(config.ToJson());
        Assert.Equal("gaussian", document.RootElement.GetProperty("init_lora_weights").GetString());
        Assert.Equal(@".*\.q_proj", document.RootElement.GetProperty("target_modules").GetString());
        Assert.Equal("0.1", document.RootElement.GetProperty("lora_dropout").GetRawText());
        Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("task_type").ValueKind);
    }

    [Fact]
    public void A_config_from_a_newer_PEFT_with_extra_keys_still_loads()
    {
        const string json = """
            {"peft_type": "LORA", "r": 16, "lora_alpha": 32.0, "target_modules": ["q_proj"], "lora_bias": false,
             "peft_version": "0.19.1", "exclude_modules": null, "task_type": "CAUSAL_LM", "use_rslora": false}
            """;
        var config = PeftAdapterConfig.FromJson(json);
        Assert.Equal(16, config.R);
        Assert.Equal(2.0, config.Scaling);
        Assert.Equal(["q_proj"], config.TargetModules!);
    }

    [Fact]
    public void Weights_without_their_B_factor_or_with_foreign_keys_are_refused()
    {
        using var scope = torch.NewDisposeScope();
        var config = new PeftAdapterConfig();
        var onlyA = new Dictionary<string, Tensor> { [PeftAdapter.LoraAKey("fc1")] = torch.zeros(2, 3) };
        Assert.Contains("no matching", Assert.Throws<ArgumentException>(() => PeftAdapter.Save(_directory, onlyA, config)).Message);
        var foreign = new Dictionary<string, Tensor> { ["fc1.weight"] = torch.zeros(2, 3) };
        Assert.Contains("fc1.weight", Assert.Throws<ArgumentException>(() => PeftAdapter.Save(_directory, foreign, config)).Message);
    }

    [Fact]
    public void Module_path_is_recovered_from_a_PEFT_key()
    {
        Assert.Equal("model.layers.3.mlp.up_proj", PeftAdapter.ModulePathOf("base_model.model.model.layers.3.mlp.up_proj.lora_B.weight"));
        Assert.Null(PeftAdapter.ModulePathOf("model.layers.3.mlp.up_proj.weight"));
    }
}
