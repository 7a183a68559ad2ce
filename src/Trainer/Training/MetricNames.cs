namespace Orchestrator.Trainer.Training;

/// <summary>The metric keys of progress reports and result.json.</summary>
public static class MetricNames
{
    public const string TrainLoss = "train_loss";
    public const string TestLoss = "test_loss";
    public const string TestAccuracy = "test_accuracy";
    public const string TestMse = "test_mse";
    public const string TestPerplexity = "test_perplexity";
}
