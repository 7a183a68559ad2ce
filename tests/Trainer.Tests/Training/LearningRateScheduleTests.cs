using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

public sealed class LearningRateScheduleTests
{
    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(5, 0.5e-3)]
    [InlineData(10, 1e-3)]
    [InlineData(99, 1e-3)]
    public void Constant_with_10_warmup_steps_ramps_linearly_then_holds(long step, double expected) =>
        Assert.Equal(expected, new LearningRateSchedule(ScheduleKind.Constant, 1e-3, 10, 100).At(step), 12);

    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(10, 1.0)]
    [InlineData(55, 0.5)]
    [InlineData(100, 0.0)]
    public void Linear_with_warmup_peaks_at_the_end_of_warmup_and_reaches_zero_at_the_last_step(long step, double factor) =>
        Assert.Equal(factor, new LearningRateSchedule(ScheduleKind.Linear, 2.0, 10, 100).At(step) / 2.0, 12);

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(50, 0.5)]
    [InlineData(25, 0.8535533905932737)]
    [InlineData(100, 0.0)]
    public void Cosine_without_warmup_follows_half_a_cosine_from_the_peak_to_zero(long step, double factor) =>
        Assert.Equal(factor, new LearningRateSchedule(ScheduleKind.Cosine, 1.0, 0, 100).Factor(step), 12);

    [Fact]
    public void An_unknown_schedule_is_rejected()
    {
        Assert.False(ConfigNames<ScheduleKind>.TryParse("exponential", out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateSchedule((ScheduleKind)99, 1, 0, 10));
    }

    [Theory]
    [InlineData(0, 0.1, 100, 10)]
    [InlineData(0, 0.05, 30, 2)]   // Hugging Face: ceil(ratio × steps)
    [InlineData(7, 0.5, 100, 7)]   // warmup_steps, when set, wins
    [InlineData(0, 0.0, 100, 0)]
    public void Warmup_ratio_warms_up_that_fraction_of_the_steps_unless_warmup_steps_is_set(int steps, double ratio, long total, long expected) =>
        Assert.Equal(expected, LearningRateSchedule.WarmupStepsOf(
            new Orchestrator.Trials.Configuration.TrainingConfig { WarmupSteps = steps, WarmupRatio = ratio }, total));

    [Fact]
    public void A_config_without_warmup_ratio_serialises_as_before_it_existed() =>
        Assert.DoesNotContain("warmup_ratio", System.Text.Json.JsonSerializer.Serialize(new Orchestrator.Trials.Configuration.TrainingConfig()));
}
