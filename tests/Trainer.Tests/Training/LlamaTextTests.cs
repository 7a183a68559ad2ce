using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Models.Llama;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

public sealed class LlamaTextTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public void Lora_on_a_llama_folder_learns_the_text_corpus_and_reports_perplexity()
    {
        var folder = _workspace.Sub("tiny-llama");
        using (var llama = LlamaModel.Create(new LlamaConfig
               {
                   VocabSize = 257, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 1, NumAttentionHeads = 2, MaxPositionEmbeddings = 64,
               }, seed: 1))
        {
            llama.SavePretrained(folder);
        }
        var config = new TrainingConfig
        {
            Model = "llama", Dataset = "text", Rank = 4, Alpha = 8, TargetModules = ["q_proj", "v_proj"], SequenceLength = 32,
            BatchSize = 16, MaxSteps = 30, EvalEvery = 30, LearningRate = 1e-2, Seed = 2,
        };
        var spec = new BaseModelSpec { Checkpoint = folder };

        var before = TrialTrainer.Run(new TrainingRequest(config with { Adapter = AdapterKind.Base }, spec, _workspace.Sub("base"), _workspace.Sub("bases")), null, CancellationToken.None);
        var after = TrialTrainer.Run(new TrainingRequest(config, spec, _workspace.Sub("lora"), _workspace.Sub("bases")), null, CancellationToken.None);

        Assert.InRange(before.Metrics[MetricNames.TestPerplexity], 200, 300); // ≈ uniform over 257 byte ids
        Assert.True(after.Metrics[MetricNames.TestPerplexity] < before.Metrics[MetricNames.TestPerplexity]);
        var (_, adapter) = PeftAdapter.Load(Path.Combine(_workspace.Sub("lora"), "adapter"));
        Assert.Equal(PeftAdapterConfig.CausalLmTaskType, adapter.TaskType);
        Assert.Equal(folder, adapter.BaseModelNameOrPath);
    }

    [Fact]
    public void The_built_in_tiny_llama_pretrains_on_the_text_corpus_then_lora_on_q_and_v_reports_perplexity_and_a_peft_adapter()
    {
        var config = new TrainingConfig
        {
            Model = "llama", Dataset = "text", Rank = 4, Alpha = 8, TargetModules = ["q_proj", "v_proj"], SequenceLength = 32,
            BatchSize = 16, MaxSteps = 10, EvalEvery = 5, LearningRate = 3e-3, Seed = 3,
        };
        var spec = new BaseModelSpec { Pretrain = new PretrainSpec { Epochs = 1, LearningRate = 1e-2, BatchSize = 128 } };

        var first = TrialTrainer.Run(new TrainingRequest(config, spec, _workspace.Sub("first"), _workspace.Sub("bases")), null, CancellationToken.None);
        var second = TrialTrainer.Run(new TrainingRequest(config, spec, _workspace.Sub("second"), _workspace.Sub("bases")), null, CancellationToken.None);

        Assert.True(first.Metrics[MetricNames.TestPerplexity] is > 1 and < 257, $"perplexity {first.Metrics[MetricNames.TestPerplexity]}");
        Assert.Equal(first.BaseModelHash, second.BaseModelHash); // pretrained once, then reused from the cache
        Assert.Equal(first.Metrics, second.Metrics);
        var (weights, adapter) = PeftAdapter.Load(Path.Combine(_workspace.Sub("first"), TrialTrainer.AdapterFolder));
        try
        {
            Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", weights.Keys);
            Assert.Contains("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight", weights.Keys);
            Assert.Equal(2 * 2 * 2, weights.Count); // 2 layers × (q, v) × (A, B)
            Assert.Equal(PeftAdapterConfig.CausalLmTaskType, adapter.TaskType);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }
}
