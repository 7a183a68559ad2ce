using Orchestrator.Trials.Configuration;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// The learning rate of each optimiser step as a multiple of the peak rate, the same lambdas as Hugging Face's
/// get_{constant,linear,cosine}_schedule_with_warmup: step s (0-based) warms up linearly as s / warmup, then stays
/// (constant), falls linearly to 0 at the last step (linear) or follows half a cosine to 0 (cosine).
/// </summary>
public sealed class LearningRateSchedule
{
    public LearningRateSchedule(ScheduleKind kind, double peak, long warmupSteps, long totalSteps)
    {
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a schedule");
        Kind = kind;
        Peak = peak;
        WarmupSteps = Math.Max(0, warmupSteps);
        TotalSteps = Math.Max(1, totalSteps);
    }

    /// <summary>warmup_steps when set, else Hugging Face's ceil(warmup_ratio × total steps).</summary>
    public static long WarmupStepsOf(TrainingConfig config, long totalSteps) =>
        config.WarmupSteps > 0 ? config.WarmupSteps : (long)Math.Ceiling(config.WarmupRatio * totalSteps);

    public ScheduleKind Kind { get; }
    public double Peak { get; }
    public long WarmupSteps { get; }
    public long TotalSteps { get; }

    /// <summary>The learning rate for optimiser step <paramref name="step"/> (0-based).</summary>
    public double At(long step) => Peak * Factor(step);

    public double Factor(long step)
    {
        if (step < WarmupSteps) return (double)step / Math.Max(1, WarmupSteps);
        var decaySteps = (double)Math.Max(1, TotalSteps - WarmupSteps);
        return Kind switch
        {
            ScheduleKind.Linear => Math.Max(0.0, (TotalSteps - step) / decaySteps),
            ScheduleKind.Cosine => Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * (step - WarmupSteps) / decaySteps))),
            _ => 1.0,
        };
    }
}
