namespace Orchestrator.Trainer.Training;

/// <summary>The C heap thresholds <see cref="NativeHeap"/> set, in bytes; null where glibc refused (or is absent).</summary>
public sealed record NativeHeapSettings(int? MmapThreshold, int? TrimThreshold)
{
    public static NativeHeapSettings None { get; } = new(null, null);

    /// <summary>Freed blocks below <see cref="MmapThreshold"/> stay in the heap for reuse instead of going back to the kernel.</summary>
    public bool KeepsFreedMemory => MmapThreshold is not null && TrimThreshold is not null;
}
