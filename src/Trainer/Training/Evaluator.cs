using Orchestrator.Trainer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// Test-set metrics of a model in evaluation mode: the loss, plus accuracy, MSE or perplexity by task, the names
/// <see cref="MetricNames.Evaluated"/> declares (sweep validation reads that list; trainer tests hold the two together).
/// </summary>
public static class Evaluator
{
    public static Dictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> model, ITrainingDataset data, int batchSize, Device device)
    {
        var wasTraining = model.training;
        model.eval();
        double lossSum = 0;
        long terms = 0, correct = 0, samples = 0;
        try
        {
            using var noGrad = torch.no_grad();
            foreach (var batch in data.TestBatches(batchSize))
            {
                using var scope = torch.NewDisposeScope();
                var targets = batch.Targets.to(device);
                var output = model.forward(batch.Inputs.to(device));
                lossSum += TaskLoss.Compute(data.Task, output, targets, nn.Reduction.Sum).to_type(ScalarType.Float64).item<double>();
                terms += TaskLoss.Terms(data.Task, output, targets);
                if (data.Task == TaskKind.Classification)
                {
                    correct += output.argmax(1).eq(targets).sum().item<long>();
                    samples += targets.shape[0];
                }
            }
        }
        finally
        {
            model.train(wasTraining);
        }

        var loss = terms > 0 ? lossSum / terms : double.NaN;
        var metrics = new Dictionary<string, double> { [MetricNames.TestLoss] = loss };
        switch (data.Task)
        {
            case TaskKind.Classification:
                metrics[MetricNames.TestAccuracy] = samples > 0 ? (double)correct / samples : double.NaN;
                break;
            case TaskKind.Regression:
                metrics[MetricNames.TestMse] = loss;
                break;
            case TaskKind.CausalLm:
                metrics[MetricNames.TestPerplexity] = Math.Exp(loss);
                break;
        }
        return metrics;
    }
}
