using Orchestrator.Trainer.Training;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Trainer.Tests.Training;

/// <summary>The one rule for total steps, evaluations and checkpoints, shared by a trial alone and a pack member.</summary>
public sealed class StepCadenceTests
{
    [Theory]
    [InlineData(10, 1, 10)] // one micro-batch a step
    [InlineData(10, 3, 4)]  // 3 + 3 + 3 + 1: the last, shorter group still steps (as transformers does)
    [InlineData(9, 3, 3)]
    [InlineData(1, 4, 1)]
    public void An_epoch_has_a_step_per_group_of_accumulated_micro_batches_rounding_up(int batches, int accumulation, long steps) =>
        Assert.Equal(steps, StepCadence.StepsPerEpoch(batches, accumulation));

    [Fact]
    public void Max_steps_wins_over_epochs_and_epochs_count_whole_passes_otherwise()
    {
        Assert.Equal(7, StepCadence.Of(new TrainingConfig { MaxSteps = 7, Epochs = 3 }, batchesPerEpoch: 10).TotalSteps);
        Assert.Equal(12, StepCadence.Of(new TrainingConfig { MaxSteps = 0, Epochs = 3 }, batchesPerEpoch: 10, accumulation: 3).TotalSteps);
    }

    [Fact]
    public void With_eval_every_a_trial_evaluates_on_its_multiples_and_always_after_its_last_step()
    {
        var cadence = StepCadence.Of(new TrainingConfig { MaxSteps = 25, EvalEvery = 10 }, batchesPerEpoch: 100);

        var evaluated = Enumerable.Range(1, 25).Where(s => cadence.Evaluates(s, endOfEpoch: false)).ToList();

        Assert.Equal([10, 20, 25], evaluated);
    }

    [Fact]
    public void Without_eval_every_a_trial_evaluates_at_each_epochs_end_and_checkpoints_when_it_evaluates_unless_told_otherwise()
    {
        var byEpoch = StepCadence.Of(new TrainingConfig { MaxSteps = 0, Epochs = 2, EvalEvery = 0 }, batchesPerEpoch: 4);
        Assert.True(byEpoch.Evaluates(4, endOfEpoch: true));
        Assert.False(byEpoch.Evaluates(3, endOfEpoch: false));
        Assert.True(byEpoch.Checkpoints(4, evaluates: true));
        Assert.False(byEpoch.Checkpoints(3, evaluates: false));

        var every3 = StepCadence.Of(new TrainingConfig { MaxSteps = 8, CheckpointEvery = 3 }, batchesPerEpoch: 4);
        Assert.Equal([3, 6], Enumerable.Range(1, 8).Where(s => every3.Checkpoints(s, every3.Evaluates(s, s % 4 == 0))).ToList());
    }
}
