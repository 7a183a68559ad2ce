using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Models.Decoders;

namespace Orchestrator.Trainer.Memory;

/// <summary>
/// Which trials train with the low-peak heap (<see cref="Training.NativeHeap.LowPeak"/>): a decoder's, and any trial
/// that pulls a memory lever (a half or quantised base, gradient checkpointing). Its user cares about peak memory more
/// than about the page faults of large temporaries.
/// </summary>
public static class MemoryBoundTrials
{
    public static bool Includes(TrainingConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.BaseDtype.IsHalf() || config.Quantize.IsQuantized() || config.GradientCheckpointing
            || DecoderArchitecture.Of(config.Model) is not null;
    }
}
