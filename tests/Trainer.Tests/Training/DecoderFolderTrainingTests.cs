using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trainer.Models.Llama;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Training;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Models.Decoders;
using Orchestrator.Trials.Models.Llama;

namespace Orchestrator.Trainer.Tests.Training;

/// <summary>A sweep's `model: <folder>` trains LoRA on any decoder family and writes the adapter PEFT would.</summary>
public sealed class DecoderFolderTrainingTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private TrialResultView Train(string folder, TrainingConfig config)
    {
        var before = TrialTrainer.Run(new TrainingRequest(config with { Adapter = AdapterKind.Base }, new BaseModelSpec(), _workspace.Sub("base"), _workspace.Sub("bases")), null, CancellationToken.None);
        var after = TrialTrainer.Run(new TrainingRequest(config, new BaseModelSpec(), _workspace.Sub("lora"), _workspace.Sub("bases")), null, CancellationToken.None);
        var (weights, adapter) = PeftAdapter.Load(Path.Combine(_workspace.Sub("lora"), TrialTrainer.AdapterFolder));
        var keys = weights.Keys.ToList();
        foreach (var t in weights.Values) t.Dispose();
        return new(before.Metrics[MetricNames.TestPerplexity], after.Metrics[MetricNames.TestPerplexity], adapter, keys);
    }

    private sealed record TrialResultView(double BasePerplexity, double LoraPerplexity, PeftAdapterConfig Adapter, IReadOnlyList<string> Keys);

    private static TrainingConfig OnText(string folder, IReadOnlyList<string> targets) => new()
    {
        Model = folder, Dataset = "text", Rank = 4, Alpha = 8, TargetModules = targets, SequenceLength = 32,
        BatchSize = 16, MaxSteps = 20, EvalEvery = 20, LearningRate = 1e-2, Seed = 2,
    };

    [Fact]
    public void Lora_on_a_gpt2_folder_trains_c_attn_and_writes_a_causal_lm_adapter_with_fan_in_fan_out_and_the_hub_name()
    {
        var folder = _workspace.Sub("tiny-gpt2");
        using (var gpt2 = Gpt2Model.Create(new Gpt2Config { VocabSize = 257, NPositions = 64, NEmbd = 32, NLayer = 1, NHead = 2, NameOrPath = "tiny/gpt2" }, seed: 1))
            gpt2.SavePretrained(folder);

        var trained = Train(folder, OnText(folder, ["c_attn"]));

        Assert.True(trained.LoraPerplexity < trained.BasePerplexity, $"{trained.LoraPerplexity} vs {trained.BasePerplexity}");
        Assert.Equal(PeftAdapterConfig.CausalLmTaskType, trained.Adapter.TaskType);
        Assert.True(trained.Adapter.FanInFanOut);
        Assert.Equal("tiny/gpt2", trained.Adapter.BaseModelNameOrPath);
        Assert.Equal(["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight", "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight"], trained.Keys.Order());
    }

    [Fact]
    public void All_linear_on_a_qwen3_folder_adapts_the_seven_projections_but_not_lm_head()
    {
        var folder = _workspace.Sub("tiny-qwen3");
        using (var qwen = LlamaModel.Create(new LlamaConfig
               {
                   ModelType = RotaryDecoderTypes.Qwen3, Architectures = ["Qwen3ForCausalLM"], VocabSize = 257, HiddenSize = 32, IntermediateSize = 48,
                   NumHiddenLayers = 1, NumAttentionHeads = 2, NumKeyValueHeads = 1, HeadDim = 8, MaxPositionEmbeddings = 64,
               }, seed: 1))
            qwen.SavePretrained(folder);

        var trained = Train(folder, OnText(folder, ["all-linear"]));

        Assert.True(trained.LoraPerplexity < trained.BasePerplexity, $"{trained.LoraPerplexity} vs {trained.BasePerplexity}");
        Assert.Equal(["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"], trained.Adapter.TargetModules);
        Assert.False(trained.Adapter.FanInFanOut);
        Assert.Equal(14, trained.Keys.Count);
        Assert.DoesNotContain(trained.Keys, k => k.Contains("lm_head", StringComparison.Ordinal));
        Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", trained.Keys);
    }
}
