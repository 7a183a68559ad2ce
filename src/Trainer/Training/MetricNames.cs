using Orchestrator.Trainer.Configuration;
using Orchestrator.Trainer.Data;

namespace Orchestrator.Trainer.Training;

/// <summary>The metric keys of progress reports and result.json, and which of them a trial reports.</summary>
public static class MetricNames
{
    public const string TrainLoss = "train_loss";
    public const string TestLoss = "test_loss";
    public const string TestAccuracy = "test_accuracy";
    public const string TestMse = "test_mse";
    public const string TestPerplexity = "test_perplexity";

    public static readonly IReadOnlyList<string> All = [TrainLoss, TestLoss, TestAccuracy, TestMse, TestPerplexity];

    /// <summary>
    /// What <see cref="Evaluator"/> measures on the test split of a task: the loss, plus accuracy (classification),
    /// MSE (regression) or perplexity (causal LM).
    /// </summary>
    public static IReadOnlyList<string> Evaluated(TaskKind task) => task switch
    {
        TaskKind.Classification => [TestLoss, TestAccuracy],
        TaskKind.Regression => [TestLoss, TestMse],
        TaskKind.CausalLm => [TestLoss, TestPerplexity],
        _ => throw new ArgumentOutOfRangeException(nameof(task), task, null),
    };

    /// <summary>
    /// The metrics a trial's result reports, known before it runs: the test metrics of its dataset's task, plus
    /// train_loss for trials that take optimiser steps (lora, full; a `base` trial only evaluates). The model does
    /// not change the names. Null when the dataset's task cannot be told without loading it.
    /// </summary>
    public static IReadOnlyList<string>? ReportedBy(string dataset, string adapter)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (TaskOf(dataset) is not { } task) return null;
        var evaluated = Evaluated(task);
        return adapter == AdapterModes.Base ? evaluated : [TrainLoss, .. evaluated];
    }

    /// <summary>The task of a dataset name as <see cref="DatasetCatalog.Load"/> resolves it, or null when only loading would tell.</summary>
    public static TaskKind? TaskOf(string dataset) => dataset switch
    {
        DatasetCatalog.Mnist => TaskKind.Classification,
        DatasetCatalog.SyntheticRegression => TaskKind.Regression,
        DatasetCatalog.Text => TaskKind.CausalLm,
        _ when dataset.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) => TaskKind.CausalLm,
        _ when MnistDataset.IsMnistFolder(dataset) => TaskKind.Classification,
        _ => null,
    };
}
