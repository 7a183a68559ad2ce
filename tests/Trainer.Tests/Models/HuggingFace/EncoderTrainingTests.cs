using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models.HuggingFace;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Models.HuggingFace;

public sealed class EncoderTrainingTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Theory]
    [InlineData(EncoderFamily.Bert, "bert.encoder.layer.{0}.attention.self.{1}", new[] { "query", "value" }, new[] { "classifier" },
        new[] { "classifier.weight", "classifier.bias" })]
    [InlineData(EncoderFamily.DistilBert, "distilbert.transformer.layer.{0}.attention.{1}", new[] { "q_lin", "v_lin" }, new[] { "pre_classifier", "classifier" },
        new[] { "pre_classifier.weight", "pre_classifier.bias", "classifier.weight", "classifier.bias" })]
    [InlineData(EncoderFamily.Roberta, "roberta.encoder.layer.{0}.attention.self.{1}", new[] { "query", "value" }, new[] { "classifier" },
        new[] { "classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight", "classifier.out_proj.bias" })]
    public void Lora_on_a_hugging_face_encoder_learns_a_toy_jsonl_and_saves_a_peft_adapter_with_its_head(
        EncoderFamily family, string modulePattern, string[] defaultTargets, string[] modulesToSave, string[] headTensors)
    {
        var folder = TinyEncoders.Write(_workspace.Sub("model"), family, seed: 7);
        var data = TinyEncoders.WriteToyJsonl(_workspace.Sub("toy.jsonl"), rows: 160);
        var config = new TrainingConfig
        {
            Model = folder, Dataset = data, Adapter = AdapterKind.Lora, Rank = 4, Alpha = 8, SequenceLength = 32,
            BatchSize = 16, MaxSteps = 120, EvalEvery = 40, LearningRate = 1e-2, Seed = 2,
        };
        var observer = new RecordingObserver();
        var output = _workspace.Sub("trial");

        var outcome = TrialTrainer.Run(new TrainingRequest(config, new BaseModelSpec(), output, _workspace.Sub("bases")), observer, CancellationToken.None);

        // Validation while training, test at the end: exactly the names a sweep is told to expect.
        Assert.Equal(MetricNames.ReportedBy(folder, data, AdapterKind.Lora)!.Order(), outcome.Metrics.Keys.Order());
        var evaluations = observer.Progress.Where(p => p.IsEvaluation).ToList();
        Assert.Equal(3, evaluations.Count);
        Assert.All(evaluations, e => Assert.DoesNotContain(MetricNames.TestAccuracy, e.Metrics.Keys));
        var firstLoss = evaluations[0].Metrics[MetricNames.ValLoss];
        var lastLoss = evaluations[^1].Metrics[MetricNames.ValLoss];
        var history = string.Join(" | ", observer.Progress.Select(p => $"{p.Step}: " + string.Join(", ", p.Metrics.Select(kv => $"{kv.Key}={kv.Value:0.###}"))));
        Assert.True(lastLoss < firstLoss, $"{family}: validation loss {firstLoss} → {lastLoss}: {history}");
        Assert.True(outcome.Metrics[MetricNames.TestAccuracy] >= 0.8, $"{family}: test accuracy {outcome.Metrics[MetricNames.TestAccuracy]}: {history}");
        Assert.InRange(outcome.Metrics[MetricNames.TestMacroF1], 0.8, 1.0);

        var (weights, adapter) = PeftAdapter.Load(Path.Combine(output, TrialTrainer.AdapterFolder));
        try
        {
            var expected = new List<string>();
            for (var layer = 0; layer < 2; layer++)
                foreach (var target in defaultTargets)
                    foreach (var factor in new[] { "lora_A", "lora_B" })
                        expected.Add($"base_model.model.{string.Format(System.Globalization.CultureInfo.InvariantCulture, modulePattern, layer, target)}.{factor}.weight");
            expected.AddRange(headTensors.Select(t => "base_model.model." + t)); // modules_to_save, as PEFT writes them (no `.modules_to_save.default`)
            Assert.Equal(expected.Order(StringComparer.Ordinal), weights.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(PeftAdapterConfig.SequenceClassificationTaskType, adapter.TaskType);
            Assert.Equal(modulesToSave, adapter.ModulesToSave);
            Assert.Equal(defaultTargets, adapter.TargetModules);

            // The adapter is the whole trained difference: the base folder, a fresh head from another seed, LoRA, then the
            // saved weights give the trial's test loss back.
            using var reloaded = EncoderClassifier.FromPretrained(folder, numLabels: 2, seed: 12345);
            LoraInjector.Inject(reloaded, config, seed: 0);
            LoraWeights.Set(reloaded, weights);
            using var dataset = DatasetCatalog.Load(config);
            var again = Evaluator.Evaluate(reloaded, dataset, config.BatchSize, TorchSharp.torch.CPU);
            Assert.Equal(outcome.Metrics[MetricNames.TestLoss], again[MetricNames.TestLoss], 5);
            Assert.Equal(outcome.Metrics[MetricNames.TestAccuracy], again[MetricNames.TestAccuracy]);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    [Fact]
    public void The_base_baseline_trains_only_the_head_and_full_trains_everything()
    {
        var folder = TinyEncoders.Write(_workspace.Sub("model"), EncoderFamily.DistilBert, seed: 7);
        var data = TinyEncoders.WriteToyJsonl(_workspace.Sub("toy.jsonl"));
        var config = new TrainingConfig
        {
            Model = folder, Dataset = data, SequenceLength = 16, BatchSize = 8, MaxSteps = 5, LearningRate = 5e-3, Seed = 2,
        };
        var head = TinyEncoders.Config(EncoderFamily.DistilBert).HeadParameterCount(2);

        var probe = TrialTrainer.Run(new TrainingRequest(config with { Adapter = AdapterKind.Base }, new BaseModelSpec(), _workspace.Sub("base"), _workspace.Sub("bases")), null, CancellationToken.None);
        var full = TrialTrainer.Run(new TrainingRequest(config with { Adapter = AdapterKind.Full }, new BaseModelSpec(), _workspace.Sub("full"), _workspace.Sub("bases")), null, CancellationToken.None);

        Assert.Equal(head, probe.TrainableParameters);
        Assert.Equal(MetricNames.ReportedBy(folder, data, AdapterKind.Base)!.Order(), probe.Metrics.Keys.Order());
        Assert.Equal(full.TotalParameters, full.TrainableParameters);
        Assert.Equal(TinyEncoders.Config(EncoderFamily.DistilBert).ParameterCount(2), full.TotalParameters);
    }
}
