using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Lora;

public sealed class LoraWeightsTests
{
    [Fact]
    public void Adapter_tensors_are_keyed_by_PEFT_names()
    {
        using var model = new TransformerBlockModel(1);
        LoraInjector.Inject(model, new TrainingConfig { Rank = 4, TargetModules = ["q_proj", "v_proj"] }, 1);
        var weights = LoraWeights.Get(model);
        Assert.Equal(
            ["base_model.model.q_proj.lora_A.weight", "base_model.model.q_proj.lora_B.weight", "base_model.model.v_proj.lora_A.weight", "base_model.model.v_proj.lora_B.weight"],
            weights.Keys);
        Assert.Equal(new long[] { 4, 256 }, weights["base_model.model.q_proj.lora_A.weight"].shape);
        foreach (var t in weights.Values) t.Dispose();
    }

    [Theory]
    [InlineData(BiasMode.None, new string[0])]
    [InlineData(BiasMode.LoraOnly, new[] { "base_model.model.l2.base_layer.bias" })]
    [InlineData(BiasMode.All, new[] { "base_model.model.l1.bias", "base_model.model.l2.base_layer.bias", "base_model.model.l3.bias" })]
    public void Trained_biases_are_saved_under_their_key_in_PEFTs_state_dict(BiasMode bias, string[] biasKeys)
    {
        using var model = new MlpModel(1);
        LoraInjector.Inject(model, new TrainingConfig { TargetModules = ["l2"], Bias = bias }, 1);
        var keys = LoraWeights.Get(model).Keys.Where(k => k.EndsWith(".bias")).Order();
        Assert.Equal(biasKeys.Order(), keys);
    }

    [Fact]
    public void Weights_set_into_a_fresh_model_round_trip()
    {
        var config = new TrainingConfig { TargetModules = ["l1", "l3"], Bias = BiasMode.LoraOnly };
        using var source = new MlpModel(1);
        var injected = LoraInjector.Inject(source, config, 1);
        using (no_grad()) foreach (var m in injected.Modules) m.Layer.LoraB.add_(0.25);
        var saved = LoraWeights.Get(source);

        using var target = new MlpModel(2);
        LoraInjector.Inject(target, config, 3);
        LoraWeights.Set(target, saved);
        var loaded = LoraWeights.Get(target);
        Assert.Equal(saved.Keys, loaded.Keys);
        foreach (var key in saved.Keys) Assert.True(saved[key].Same(loaded[key]), key);
    }

    [Fact]
    public void A_wrapped_layers_bias_also_loads_from_the_unwrapped_key_older_PEFT_wrote()
    {
        var config = new TrainingConfig { TargetModules = ["l2"], Bias = BiasMode.LoraOnly };
        using var model = new MlpModel(1);
        LoraInjector.Inject(model, config, 1);
        var weights = LoraWeights.Get(model);
        var bias = weights["base_model.model.l2.base_layer.bias"];
        var old = weights.Where(kv => !kv.Key.EndsWith(".bias", StringComparison.Ordinal)).ToDictionary();
        old["base_model.model.l2.bias"] = full_like(bias, 0.5f);

        LoraWeights.Set(model, old);

        Assert.True(LoraWeights.Get(model)["base_model.model.l2.base_layer.bias"].Same(full_like(bias, 0.5f)));
    }

    [Fact]
    public void Setting_strictly_rejects_unknown_and_missing_keys_and_wrong_shapes()
    {
        using var model = new MlpModel(1);
        LoraInjector.Inject(model, new TrainingConfig { TargetModules = ["l1"] }, 1);
        var weights = LoraWeights.Get(model);
        var extra = new Dictionary<string, Tensor>(weights) { ["base_model.model.l9.lora_A.weight"] = zeros(1) };
        Assert.Throws<ArgumentException>(() => LoraWeights.Set(model, extra));
        var missing = weights.Where(kv => !kv.Key.Contains("lora_B")).ToDictionary();
        Assert.Throws<ArgumentException>(() => LoraWeights.Set(model, missing));
        var wrong = new Dictionary<string, Tensor>(weights) { ["base_model.model.l1.lora_A.weight"] = zeros(3, 3) };
        Assert.Throws<ArgumentException>(() => LoraWeights.Set(model, wrong));
    }
}
