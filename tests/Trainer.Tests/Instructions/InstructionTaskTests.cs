using System.Text.Json;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Trainer.Tests.Instructions;

public sealed class InstructionTaskTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public void Prompt_completion_rows_with_a_small_set_of_completions_are_labels_and_report_test_accuracy()
    {
        var folder = TinyDecoders.Write(_workspace.Sub("model"));
        var labels = TinyDecoders.WriteJsonl(_workspace.Sub("labels.jsonl"), Enumerable.Range(0, 20).Select(i => new { prompt = $"p{i}", completion = i % 2 == 0 ? " yes" : " no" }));
        var free = TinyDecoders.WriteJsonl(_workspace.Sub("free.jsonl"), Enumerable.Range(0, 20).Select(i => new { prompt = $"p{i}", completion = $" answer {i}" }));
        var chat = TinyDecoders.WriteJsonl(_workspace.Sub("chat.jsonl"), [new { messages = new[] { new { role = "user", content = "a" } } }]);

        Assert.Equal(TaskKind.InstructionLabels, MetricNames.TaskOf(folder, labels));
        Assert.Equal(TaskKind.InstructionTuning, MetricNames.TaskOf(folder, free));
        Assert.Equal(TaskKind.InstructionTuning, MetricNames.TaskOf(folder, chat));
        Assert.Equal(TaskKind.CausalLm, MetricNames.TaskOf("llama", free)); // the built-in llama keeps reading a .jsonl as a corpus
        Assert.Equal([MetricNames.TrainLoss, MetricNames.ValLoss, MetricNames.ValPerplexity, MetricNames.TestLoss, MetricNames.TestPerplexity, MetricNames.TestAccuracy],
            MetricNames.ReportedBy(folder, labels, AdapterKind.Lora));
        Assert.DoesNotContain(MetricNames.TestAccuracy, MetricNames.ReportedBy(folder, free, AdapterKind.Lora)!);
    }

    [Theory]
    [InlineData("eval_loss", "val_loss")]
    [InlineData("eval_perplexity", "val_perplexity")]
    [InlineData("eval/ppl", "val_perplexity")]
    [InlineData("test_ppl", "test_perplexity")]
    public void Hugging_face_metric_names_read_as_the_instruction_metrics(string written, string meant)
    {
        Assert.Equal(meant, Orchestrator.Trials.Metrics.MetricAliases.Resolve(written, TaskKind.InstructionTuning)!.Name);
    }

    [Fact]
    public void The_instruction_options_are_left_out_of_a_configs_json_at_their_defaults()
    {
        var json = JsonSerializer.Serialize(new TrainingConfig());
        foreach (var key in new[] { "completion_only_loss", "assistant_only_loss", "pack_sequences", "chat_template" }) Assert.DoesNotContain(key, json);

        var changed = new TrainingConfig { CompletionOnlyLoss = false, AssistantOnlyLoss = false, PackSequences = true, ChatTemplate = "t.jinja" };
        var written = JsonSerializer.Serialize(changed);
        Assert.Contains("\"completion_only_loss\":false", written);
        var read = JsonSerializer.Deserialize<TrainingConfig>(written)!;
        Assert.Equal((false, false, true, "t.jinja"), (read.CompletionOnlyLoss, read.AssistantOnlyLoss, read.PackSequences, read.ChatTemplate));
        Assert.Empty(changed.Problems());
        Assert.Equal(true, TrainingOptions.Get("completion_only_loss").Default);
    }
}
