using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Data.Instructions;
using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trainer.Training;
using Orchestrator.Trials.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Instructions;

public sealed class InstructionTrainingTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private static readonly string[] Words = ["good", "bad", "the", "film", "was", "very", "plot", "acting", "great", "awful", "fine", "dull"];

    private string SentimentData(int rows)
    {
        var random = new Random(3);
        return TinyDecoders.WriteJsonl(_workspace.Sub("sentiment.jsonl"), Enumerable.Range(0, rows).Select(i =>
        {
            var positive = i % 2 == 0;
            var review = string.Join(' ', Enumerable.Range(0, 3 + random.Next(4)).Select(_ => Words[random.Next(Words.Length)]));
            return new { prompt = $"Review: {review}. {(positive ? "great" : "awful")}", completion = positive ? " positive" : " negative" };
        }));
    }

    [Fact]
    public void Padding_never_changes_the_loss_of_a_batch()
    {
        var folder = TinyDecoders.Write(_workspace.Sub("model"));
        var data = SentimentData(40);
        using var dataset = InstructionDataset.Load(data, folder, new TrainingConfig { Model = folder, Dataset = data, SequenceLength = 64 });
        using var model = CausalLanguageModels.FromPretrained(folder);
        var module = (nn.Module<Tensor, Tensor>)model;
        module.eval();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();

        var batch = dataset.TestBatches(8).First();
        var lengths = batch.Inputs.select(1, 1).sum(1).data<long>().ToArray();
        Assert.True(lengths.Distinct().Count() > 1, "the batch mixes lengths, so some rows are padded");
        var padded = TaskLoss.Compute(dataset.Task, ModelForward.Run(module, batch.Inputs), batch.Targets, nn.Reduction.Sum).item<float>();
        double alone = 0;
        for (var i = 0; i < lengths.Length; i++)
        {
            var row = new Batch(batch.Inputs.narrow(0, i, 1).narrow(2, 0, lengths[i]), batch.Targets.narrow(0, i, 1).narrow(1, 0, lengths[i]));
            alone += TaskLoss.Compute(dataset.Task, ModelForward.Run(module, row.Inputs), row.Targets, nn.Reduction.Sum).item<float>();
        }

        Assert.Equal(alone, padded, 3);
    }

    [Fact]
    public void A_sweep_task_of_a_llama_folder_and_prompt_completion_labels_trains_on_completions_and_reports_val_test_and_accuracy()
    {
        var folder = TinyDecoders.Write(_workspace.Sub("model"));
        var data = SentimentData(120);
        var config = new TrainingConfig
        {
            Model = folder, Dataset = data, Adapter = AdapterKind.Lora, Rank = 8, Alpha = 16, TargetModules = ["all-linear"], SequenceLength = 48,
            BatchSize = 16, MaxSteps = 60, EvalEvery = 30, LearningRate = 1e-2, Seed = 1,
        };
        Assert.Equal(TaskKind.InstructionLabels, MetricNames.TaskOf(folder, data));
        var observer = new RecordingObserver();

        var outcome = TrialTrainer.Run(new TrainingRequest(config, new BaseModelSpec(), _workspace.Sub("trial"), _workspace.Sub("bases")), observer, CancellationToken.None);

        Assert.Equal(MetricNames.ReportedBy(folder, data, AdapterKind.Lora)!.Order(), outcome.Metrics.Keys.Order());
        Assert.Equal([MetricNames.TestAccuracy, MetricNames.TestLoss, MetricNames.TestPerplexity, MetricNames.TrainLoss, MetricNames.ValLoss, MetricNames.ValPerplexity],
            outcome.Metrics.Keys.Order(StringComparer.Ordinal));
        var evaluations = observer.Progress.Where(p => p.IsEvaluation).ToList();
        var history = string.Join(" | ", evaluations.Select(p => $"{p.Step}: " + string.Join(", ", p.Metrics.Select(kv => $"{kv.Key}={kv.Value:0.###}"))));
        Assert.True(evaluations[^1].Metrics[MetricNames.ValLoss] < evaluations[0].Metrics[MetricNames.ValLoss] || evaluations[0].Metrics[MetricNames.ValLoss] < 0.1, history);
        Assert.Equal(Math.Exp(outcome.Metrics[MetricNames.TestLoss]), outcome.Metrics[MetricNames.TestPerplexity], 6);
        // Only two completions, learnt from the prompt's last word: the loss on them falls well under ln 2 per label token.
        Assert.True(outcome.Metrics[MetricNames.TestAccuracy] >= 0.9, $"test accuracy {outcome.Metrics[MetricNames.TestAccuracy]}: {history}");
    }

    [Fact]
    public void A_conversation_dataset_trains_with_the_folders_chat_template_and_packing()
    {
        var folder = TinyDecoders.Write(_workspace.Sub("model"));
        var data = TinyDecoders.WriteJsonl(_workspace.Sub("chat.jsonl"), Enumerable.Range(0, 30).Select(i => new
        {
            messages = new[] { new { role = "system", content = "Count." }, new { role = "user", content = $"{i}" }, new { role = "assistant", content = $"{i + 1}" } },
        }));
        var config = new TrainingConfig
        {
            Model = folder, Dataset = data, Adapter = AdapterKind.Lora, SequenceLength = 128, BatchSize = 4, MaxSteps = 4, PackSequences = true, Seed = 1,
        };

        var outcome = TrialTrainer.Run(new TrainingRequest(config, new BaseModelSpec(), _workspace.Sub("trial"), _workspace.Sub("bases")), null, CancellationToken.None);

        Assert.Equal(MetricNames.ReportedBy(folder, data, AdapterKind.Lora)!.Order(), outcome.Metrics.Keys.Order());
        Assert.All(outcome.Metrics.Values, v => Assert.True(double.IsFinite(v)));
        using var dataset = InstructionDataset.Load(data, folder, config);
        Assert.True(dataset.TrainCount < 24, $"24 training conversations packed into {dataset.TrainCount} windows");
    }

    [Fact]
    public void A_template_construct_the_renderer_does_not_render_fails_before_training()
    {
        var folder = TinyDecoders.Write(_workspace.Sub("model"), tokenizerConfig: c => c["chat_template"] = "{% macro turn(m) %}{{ m.content }}{% endmacro %}{% for m in messages %}{{ turn(m) }}{% endfor %}");
        var data = TinyDecoders.WriteJsonl(_workspace.Sub("chat.jsonl"), Enumerable.Range(0, 10).Select(i => new { messages = new[] { new { role = "user", content = "a" }, new { role = "assistant", content = "b" } } }));
        var config = new TrainingConfig { Model = folder, Dataset = data, MaxSteps = 1 };

        var error = Assert.Throws<Orchestrator.Trainer.Data.ChatTemplates.ChatTemplateException>(() =>
            TrialTrainer.Run(new TrainingRequest(config, new BaseModelSpec(), _workspace.Sub("trial"), _workspace.Sub("bases")), null, CancellationToken.None));

        Assert.Contains("'{% macro %}'", error.Message);
        Assert.False(File.Exists(Path.Combine(_workspace.Sub("trial"), "result.json")));
    }

    [Fact]
    public void Seq_len_beyond_the_models_positions_is_refused_before_training()
    {
        var folder = TinyDecoders.Write(_workspace.Sub("model"));
        var data = SentimentData(20);
        var config = new TrainingConfig { Model = folder, Dataset = data, SequenceLength = 512, MaxSteps = 1 };

        var error = Assert.Throws<InvalidTrainingConfigException>(() =>
            TrialTrainer.Run(new TrainingRequest(config, new BaseModelSpec(), _workspace.Sub("trial"), _workspace.Sub("bases")), null, CancellationToken.None));

        Assert.Contains("seq_len must be at most 128", error.Message);
    }
}
