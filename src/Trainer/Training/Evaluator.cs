using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Data.Instructions;
using Orchestrator.Trainer.Memory;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>Which held-out split an evaluation reads.</summary>
public enum EvaluationSplit { Test, Validation }

/// <summary>
/// Held-out metrics of a model in evaluation mode: the loss, plus accuracy (and macro-F1 for text classification),
/// MSE or perplexity by task, the names <see cref="MetricNames.Evaluated"/> declares (sweep validation reads that
/// list; trainer tests hold the two together). Test metrics are `test_*`, validation metrics `val_*`.
/// </summary>
public static class Evaluator
{
    public static Dictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> model, ITrainingDataset data, int batchSize, Device device,
        EvaluationSplit split = EvaluationSplit.Test, ManagedGarbageBound? garbage = null)
    {
        var wasTraining = model.training;
        model.eval();
        double lossSum = 0;
        long terms = 0, correct = 0, samples = 0;
        var classification = data.Task is TaskKind.Classification or TaskKind.TextClassification;
        // Per class: true positives, predicted count, actual count (for macro-F1).
        var classes = data.Task == TaskKind.TextClassification ? (int)data.Classes : 0;
        var truePositives = new long[classes];
        var predicted = new long[classes];
        var actual = new long[classes];
        try
        {
            using var noGrad = torch.no_grad();
            var batches = split == EvaluationSplit.Validation ? data.ValidationBatches(batchSize) : data.TestBatches(batchSize);
            foreach (var batch in batches)
            {
                garbage?.Check(); // the previous batch's garbage: its scope has ended
                using var scope = torch.NewDisposeScope();
                var targets = batch.Targets.to(device);
                var output = ModelForward.Run(model, batch.Inputs.to(device));
                lossSum += TaskLoss.Compute(data.Task, output, targets, nn.Reduction.Sum).to_type(ScalarType.Float64).item<double>();
                terms += TaskLoss.Terms(data.Task, output, targets);
                if (!classification) continue;
                var predictions = output.argmax(1);
                correct += predictions.eq(targets).sum().item<long>();
                samples += targets.shape[0];
                if (classes == 0) continue;
                var truth = targets.cpu().data<long>().ToArray();
                var guesses = predictions.cpu().data<long>().ToArray();
                for (var i = 0; i < truth.Length; i++)
                {
                    actual[truth[i]]++;
                    predicted[guesses[i]]++;
                    if (truth[i] == guesses[i]) truePositives[truth[i]]++;
                }
            }
        }
        finally
        {
            model.train(wasTraining);
        }

        var validation = split == EvaluationSplit.Validation;
        var loss = terms > 0 ? lossSum / terms : double.NaN;
        var metrics = new Dictionary<string, double> { [validation ? MetricNames.ValLoss : MetricNames.TestLoss] = loss };
        switch (data.Task)
        {
            case TaskKind.Classification:
                metrics[MetricNames.TestAccuracy] = samples > 0 ? (double)correct / samples : double.NaN;
                break;
            case TaskKind.TextClassification:
                metrics[validation ? MetricNames.ValAccuracy : MetricNames.TestAccuracy] = samples > 0 ? (double)correct / samples : double.NaN;
                metrics[validation ? MetricNames.ValMacroF1 : MetricNames.TestMacroF1] = MacroF1(truePositives, predicted, actual);
                break;
            case TaskKind.Regression:
                metrics[MetricNames.TestMse] = loss;
                break;
            case TaskKind.CausalLm or TaskKind.InstructionTuning or TaskKind.InstructionLabels:
                metrics[validation ? MetricNames.ValPerplexity : MetricNames.TestPerplexity] = Math.Exp(loss);
                if (!validation && data is InstructionDataset { Labels: { } labels })
                    metrics[MetricNames.TestAccuracy] = LabelAccuracy.Measure(model, labels, batchSize, device);
                break;
        }
        return metrics;
    }

    /// <summary>
    /// The mean over classes of F1 = 2·TP / (2·TP + FP + FN), as scikit-learn's f1_score(average="macro"): over the
    /// classes that occur in the truth or the predictions; NaN with no examples.
    /// </summary>
    public static double MacroF1(IReadOnlyList<long> truePositives, IReadOnlyList<long> predicted, IReadOnlyList<long> actual)
    {
        double sum = 0;
        var present = 0;
        for (var c = 0; c < truePositives.Count; c++)
        {
            var denominator = predicted[c] + actual[c]; // 2·TP + FP + FN
            if (denominator == 0) continue;
            sum += 2.0 * truePositives[c] / denominator;
            present++;
        }
        return present > 0 ? sum / present : double.NaN;
    }
}
