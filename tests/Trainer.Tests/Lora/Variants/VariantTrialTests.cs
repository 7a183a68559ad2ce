using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models.HuggingFace;
using Orchestrator.Trainer.Models.Llama;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Tests.Models.HuggingFace;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trainer.Training;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Lora.Variants;

/// <summary>The variants through the models that use LoraLinear: a Hugging Face encoder trial end to end, and llama.</summary>
public sealed class VariantTrialTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public void A_DoRA_PiSSA_LoRA_plus_encoder_trial_saves_an_adapter_that_the_unmodified_base_turns_back_into_the_trials_test_loss()
    {
        var folder = TinyEncoders.Write(_workspace.Sub("model"), EncoderFamily.Bert, seed: 7);
        var data = TinyEncoders.WriteToyJsonl(_workspace.Sub("toy.jsonl"), rows: 96);
        var config = new TrainingConfig
        {
            Model = folder, Dataset = data, Adapter = AdapterKind.Lora, Rank = 2, Alpha = 4, SequenceLength = 16,
            BatchSize = 16, MaxSteps = 12, LearningRate = 5e-3, Seed = 2, Dropout = 0.1,
            UseDora = true, Init = LoraInitMethod.Pissa, LoraPlusLrRatio = 16,
        };
        var output = _workspace.Sub("trial");
        var outcome = TrialTrainer.Run(new TrainingRequest(config, new BaseModelSpec(), output, _workspace.Sub("bases")), null, CancellationToken.None);

        var (weights, adapter) = PeftAdapter.Load(Path.Combine(output, TrialTrainer.AdapterFolder));
        try
        {
            Assert.True(adapter.UseDora);
            Assert.Equal(4, adapter.R);
            Assert.Equal(8, adapter.LoraAlpha);
            Assert.Equal("true", adapter.InitLoraWeights);
            Assert.Contains("base_model.model.bert.encoder.layer.1.attention.self.value.lora_magnitude_vector", weights.Keys);
            Assert.Equal(new long[] { 4, weights["base_model.model.bert.encoder.layer.1.attention.self.value.lora_A.weight"].shape[1] },
                weights["base_model.model.bert.encoder.layer.1.attention.self.value.lora_A.weight"].shape);

            // The base folder as it is (no PiSSA residual), a plain rank-4 adapter of the saved config, the saved weights.
            using var reloaded = EncoderClassifier.FromPretrained(folder, numLabels: 2, seed: 12345);
            LoraInjector.Inject(reloaded, new TrainingConfig
            {
                Model = folder, Dataset = data, Rank = adapter.R, Alpha = adapter.LoraAlpha, UseDora = adapter.UseDora, TargetModules = adapter.TargetModules!,
            }, seed: 0);
            LoraWeights.Set(reloaded, weights);
            using var dataset = DatasetCatalog.Load(config);
            var again = Evaluator.Evaluate(reloaded, dataset, config.BatchSize, CPU);
            Assert.Equal(outcome.Metrics[MetricNames.TestLoss], again[MetricNames.TestLoss], 5);
            Assert.Equal(outcome.Metrics[MetricNames.TestAccuracy], again[MetricNames.TestAccuracy]);
            // DoRA adds one magnitude per output feature of each adapted module to what trains.
            Assert.Equal(ParameterReport.ForEncoder(folder, EncoderConfig.Of(folder)!, 2, [], useDora: true).TrainableParameters, outcome.TrainableParameters);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    [Theory]
    [InlineData("pissa", true)]
    [InlineData("olora", false)]
    [InlineData("pissa_niter_1", true)]
    public void DoRA_and_PiSSA_or_OLoRA_on_llama_keep_the_fresh_models_logits_and_train_the_magnitudes(string init, bool useDora)
    {
        using var scope = NewDisposeScope();
        using var model = LlamaModel.Create(new LlamaConfig
        {
            VocabSize = 64, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2, MaxPositionEmbeddings = 16,
        }, seed: 1);
        model.eval();
        var ids = tensor(new long[] { 1, 5, 9, 3 }).reshape(1, 4);
        var before = model.forward(ids).detach().clone();

        var injection = LoraInjector.Inject(model, new TrainingConfig { Rank = 4, TargetModules = ["q_proj", "v_proj"], Init = LoraInitMethod.Parse(init), UseDora = useDora }, seed: 2);

        Assert.True(model.forward(ids).allclose(before, rtol: 1e-4, atol: 1e-4));
        var magnitudes = useDora ? 2 * (32 + 16) : 0; // q: 32 outputs, v: 16 (two key/value heads of 8), in two layers
        Assert.Equal(2 * (4 * (32 + 32) + 4 * (32 + 16)) + magnitudes, injection.TrainableParameters);
        Assert.Equal(useDora, LoraWeights.Get(model).ContainsKey("base_model.model.model.layers.1.self_attn.v_proj.lora_magnitude_vector"));
    }
}
