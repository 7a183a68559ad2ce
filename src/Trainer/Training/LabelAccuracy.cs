using Orchestrator.Trainer.Data.Instructions;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// test_accuracy of prompt/completion data whose completions are labels: per test prompt, the summed log-likelihood of
/// each candidate's trained tokens (<see cref="LabelChoices"/>), and the share of prompts whose best candidate is theirs.
/// </summary>
public static class LabelAccuracy
{
    public static double Measure(nn.Module<Tensor, Tensor> model, LabelChoices labels, int batchSize, Device device)
    {
        var rows = labels.Inputs.shape[0];
        if (rows == 0) return double.NaN;
        var scores = new double[rows];
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            for (long start = 0; start < rows; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                var length = Math.Min(batchSize, rows - start);
                var batch = InstructionDataset.Trim(new Data.Batch(labels.Inputs.narrow(0, start, length), labels.Targets.narrow(0, start, length)));
                var targets = batch.Targets.to(device);
                var logProbs = ModelForward.Run(model, batch.Inputs.to(device)).to_type(ScalarType.Float64).log_softmax(-1);
                var trained = targets.ne(TaskLoss.IgnoreIndex);
                var picked = logProbs.gather(-1, targets.clamp_min(0).unsqueeze(-1)).squeeze(-1) * trained;
                var sums = picked.sum(1).cpu().data<double>().ToArray();
                sums.CopyTo(scores, start);
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        var candidates = labels.Candidates.Count;
        var correct = 0;
        for (var i = 0; i < labels.Correct.Length; i++)
        {
            var best = 0;
            for (var c = 1; c < candidates; c++)
            {
                if (scores[i * candidates + c] > scores[i * candidates + best]) best = c;
            }
            if (best == labels.Correct[i]) correct++;
        }
        return (double)correct / labels.Correct.Length;
    }
}
