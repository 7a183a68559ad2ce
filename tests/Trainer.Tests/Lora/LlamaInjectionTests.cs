using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models.Llama;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Lora;

/// <summary>The injector against the Llama model another part builds: the field-per-module contract holds there too.</summary>
public sealed class LlamaInjectionTests
{
    private static readonly LlamaConfig Tiny = new()
    {
        VocabSize = 64, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
        MaxPositionEmbeddings = 16,
    };

    [Fact]
    public void Q_and_v_of_every_decoder_layer_are_adapted_and_the_fresh_model_computes_the_same_logits()
    {
        using var scope = NewDisposeScope();
        using var model = LlamaModel.Create(Tiny, seed: 1);
        model.eval();
        var ids = tensor(new long[] { 1, 5, 9, 3 }).reshape(1, 4);
        var before = model.forward(ids).detach().clone();

        var injection = LoraInjector.Inject(model, new TrainingConfig { Rank = 4, TargetModules = ["q_proj", "v_proj"] }, seed: 2);

        Assert.Equal(
            ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"],
            injection.Modules.Select(m => m.Path));
        // q: 4·(32+32), v: 4·(32+16) with two key/value heads of width 8, in each of two layers.
        Assert.Equal(2 * (4 * (32 + 32) + 4 * (32 + 16)), injection.TrainableParameters);
        Assert.True(model.forward(ids).allclose(before, rtol: 1e-5, atol: 1e-5));
        Assert.Contains("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight", LoraWeights.Get(model).Keys);
    }

    [Fact]
    public void All_linear_on_llama_adapts_the_seven_projections_of_each_layer_but_not_lm_head()
    {
        using var model = LlamaModel.Create(Tiny, seed: 1);
        Assert.Contains("lm_head", LoraInjector.LinearModulePaths(model));
        var paths = LoraInjector.Inject(model, new TrainingConfig { TargetModules = [LoraInjector.AllLinear] }, 2).Modules.Select(m => m.Path).ToList();
        Assert.Equal(14, paths.Count);
        Assert.DoesNotContain("lm_head", paths);
    }
}
