using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Models.Named;

namespace Orchestrator.Trials.Metrics;

/// <summary>The metric keys of progress reports and result.json, and which of them a trial reports.</summary>
public static class MetricNames
{
    public const string TrainLoss = "train_loss";
    public const string TestLoss = "test_loss";
    public const string TestAccuracy = "test_accuracy";
    public const string TestMacroF1 = "test_macro_f1";
    public const string TestMse = "test_mse";
    public const string TestPerplexity = "test_perplexity";
    public const string ValLoss = "val_loss";
    public const string ValAccuracy = "val_accuracy";
    public const string ValMacroF1 = "val_macro_f1";
    public const string ValPerplexity = "val_perplexity";

    public static readonly IReadOnlyList<string> All =
        [TrainLoss, TestLoss, TestAccuracy, TestMacroF1, TestMse, TestPerplexity, ValLoss, ValAccuracy, ValMacroF1, ValPerplexity];

    /// <summary>
    /// What <see cref="Evaluator"/> measures on the test split of a task: the loss, plus accuracy (classification;
    /// and macro-F1 for text), MSE (regression) or perplexity (causal LM).
    /// </summary>
    public static IReadOnlyList<string> Evaluated(TaskKind task) => task switch
    {
        TaskKind.Classification => [TestLoss, TestAccuracy],
        TaskKind.TextClassification => [TestLoss, TestAccuracy, TestMacroF1],
        TaskKind.Regression => [TestLoss, TestMse],
        TaskKind.CausalLm or TaskKind.InstructionTuning => [TestLoss, TestPerplexity],
        TaskKind.InstructionLabels => [TestLoss, TestPerplexity, TestAccuracy],
        _ => throw new ArgumentOutOfRangeException(nameof(task), task, null),
    };

    /// <summary>What evaluations during training measure on the validation split; empty for tasks that have none (they read test).</summary>
    public static IReadOnlyList<string> Validated(TaskKind task) => task switch
    {
        TaskKind.TextClassification => [ValLoss, ValAccuracy, ValMacroF1],
        TaskKind.InstructionTuning or TaskKind.InstructionLabels => [ValLoss, ValPerplexity],
        _ => [],
    };

    /// <summary>Tasks whose model is a decoder scoring every next token (windows of a corpus, or instruction rows).</summary>
    public static bool IsLanguageModelling(TaskKind task) => task is TaskKind.CausalLm or TaskKind.InstructionTuning or TaskKind.InstructionLabels;

    /// <summary>
    /// The metrics a trial's result reports, known before it runs: the test (and validation) metrics of its task, plus
    /// train_loss for trials that take optimiser steps (lora, full; a `base` trial only evaluates, except a text
    /// classifier's, whose head trains on the frozen base). Null when the task cannot be told without loading.
    /// </summary>
    public static IReadOnlyList<string>? ReportedBy(string model, string dataset, AdapterKind adapter)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (TaskOf(model, dataset) is not { } task) return null;
        IReadOnlyList<string> evaluated = [.. Validated(task), .. Evaluated(task)];
        return adapter == AdapterKind.Base && task != TaskKind.TextClassification ? evaluated : [TrainLoss, .. evaluated];
    }

    /// <summary>As <see cref="ReportedBy(string, string, AdapterKind)"/> for a dataset whose task does not depend on the model.</summary>
    public static IReadOnlyList<string>? ReportedBy(string dataset, AdapterKind adapter) => ReportedBy("", dataset, adapter);

    /// <summary>
    /// The task of a (model, dataset) pair as the trainer's DatasetCatalog.Load resolves it, or null when only loading
    /// would tell. The one place that decides: labelled text (.jsonl, .csv, a folder of splits) with an encoder folder
    /// (config.json model_type bert, distilbert, roberta) is text classification; TRL rows (.jsonl, .parquet or a folder
    /// of splits) with a decoder folder are instruction tuning (with labels when the completions are a small set); a
    /// .jsonl otherwise is a causal-LM corpus.
    /// </summary>
    public static TaskKind? TaskOf(string model, string dataset) => dataset switch
    {
        BuiltInDatasets.Mnist => TaskKind.Classification,
        BuiltInDatasets.SyntheticRegression => TaskKind.Regression,
        BuiltInDatasets.Text => TaskKind.CausalLm,
        _ when IsEncoder(model) && (NamedDatasets.IsLabelledText(dataset) || DatasetProbe.IsLabelledText(dataset)) => TaskKind.TextClassification,
        _ when IsDecoderFolder(model) && NamedDatasets.IsInstructionLabels(dataset) => TaskKind.InstructionLabels,
        _ when IsDecoderFolder(model) && DatasetProbe.IsInstructionData(dataset) => DatasetProbe.InstructionTask(dataset),
        _ when NamedDatasets.IsLabelledText(dataset) => TaskKind.TextClassification,
        _ when dataset.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) => TaskKind.TextClassification,
        _ when dataset.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) => TaskKind.CausalLm,
        _ when DatasetProbe.IsMnistFolder(dataset) => TaskKind.Classification,
        _ => null,
    };

    /// <summary>A Hugging Face model folder (config.json) that is not an encoder, or a named decoder: a decoder, whose datasets are TRL's rows.</summary>
    public static bool IsDecoderFolder(string model) =>
        NamedDecoders.Find(model) is not null || model.Length > 0 && File.Exists(Path.Combine(model, "config.json")) && !EncoderConfig.IsEncoderFolder(model);

    private static bool IsEncoder(string model) => NamedEncoders.Find(model) is not null || EncoderConfig.IsEncoderFolder(model);

    /// <summary>As <see cref="TaskOf(string, string)"/> for a dataset alone (no encoder model).</summary>
    public static TaskKind? TaskOf(string dataset) => TaskOf("", dataset);
}
