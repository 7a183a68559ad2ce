using Orchestrator.Trainer.Data;
using TorchSharp;

namespace Orchestrator.Trainer.Tests.Data;

public sealed class BatchOrderTests
{
    [Fact]
    public void The_same_seed_and_epoch_give_bitwise_identical_batches()
    {
        using var a = SyntheticRegressionDataset.Create();
        using var b = SyntheticRegressionDataset.Create();
        for (var i = 0; i < a.TrainBatchCount(10); i++)
        {
            using var scope = torch.NewDisposeScope();
            var x = a.TrainBatch(10, seed: 7, epoch: 3, index: i);
            var y = b.TrainBatch(10, seed: 7, epoch: 3, index: i);
            Assert.True(x.Inputs.equal(y.Inputs).all().item<bool>());
            Assert.True(x.Targets.equal(y.Targets).all().item<bool>());
        }
    }

    [Fact]
    public void Each_epoch_visits_every_sample_once_in_an_order_that_changes_with_epoch_and_seed()
    {
        var first = DataOrder.Permutation(1000, seed: 1, epoch: 0);
        Assert.Equal(Enumerable.Range(0, 1000), first.Order());
        Assert.NotEqual(first, DataOrder.Permutation(1000, seed: 1, epoch: 1));
        Assert.NotEqual(first, DataOrder.Permutation(1000, seed: 2, epoch: 0));
        Assert.Equal(first, DataOrder.Permutation(1000, seed: 1, epoch: 0));
    }

    [Fact]
    public void The_last_batch_of_an_epoch_holds_the_remainder()
    {
        using var data = SyntheticRegressionDataset.Create();
        Assert.Equal(4, data.TrainBatchCount(32));
        using var scope = torch.NewDisposeScope();
        Assert.Equal(4, data.TrainBatch(32, 0, 0, 3).Size);
    }

    [Fact]
    public void Synthetic_regression_targets_come_from_a_fixed_teacher_not_from_the_trial_seed()
    {
        using var a = SyntheticRegressionDataset.Create();
        using var b = SyntheticRegressionDataset.Create();
        Assert.Equal([100L, 32L, 256L], a.TrainInputs.shape);
        Assert.Equal([20L, 32L, 256L], a.TestTargets.shape);
        Assert.True(a.TrainTargets.equal(b.TrainTargets).all().item<bool>());
        // The teacher adds a non-trivial function of the input: there is something to learn beyond identity.
        var residual = (a.TrainTargets - a.TrainInputs).pow(2).mean().item<float>();
        Assert.InRange(residual, 0.01f, 1f);
    }
}
