using Orchestrator.Trials.Configuration;

namespace Orchestrator.Trainer.Memory;

/// <summary>
/// Keeps a memory-bound trial's managed garbage out of its peak. Every step leaves managed garbage behind (TorchSharp's
/// tensor wrappers, autograd nodes, dispose scopes: measured on the 168M llama, LoRA r=16 all-linear, 1 × 64 tokens,
/// 0.8 MiB a step with a bf16 base and 2.3 MiB with an NF4 one, whose de-quantising nodes run twice per layer), and .NET
/// lets generation 0 grow to a budget it sizes from the L3 cache before it collects: on this machine's 32 MiB L3 the
/// first collection came after 16 MiB, during the third step, and every page the GC touched until then stayed in the
/// trial's peak, which therefore grew with the steps taken (bf16: 518 MiB after 20 steps, 537–541 after 80). The GC's
/// own cap (<c>GCgen0size</c>) is read from the environment only, not from runtimeconfig.json (checked: both spellings
/// ignored), so the process that trains cannot set it for itself. Instead a memory-bound trial collects generation 0 at
/// step and evaluation-batch boundaries once <see cref="AllocationBytes"/> were allocated since the last collection, so
/// the GC keeps reusing the pages it has: bf16 499 MiB after 80 steps; bf16 + NF4 290–291 MiB after 2 steps (305–313
/// without; 292–304 with a 4 MiB bound). A generation-0 collection with few survivors takes well under a millisecond; a
/// step of such a trial takes hundreds (bf16: 2.9–3.8 steps/s after 80 steps either way, within this machine's noise).
/// </summary>
public sealed class ManagedGarbageBound
{
    /// <summary>Managed bytes allocated (by the whole process) between two collections at most, give or take one step's.</summary>
    public const long AllocationBytes = 2L * 1024 * 1024;

    private long _allocatedAtLastCollection = GC.GetTotalAllocatedBytes();

    private ManagedGarbageBound()
    {
    }

    /// <summary>A bound for a trial that pulls a memory lever or trains a decoder (<see cref="MemoryBoundTrials"/>); null for others.</summary>
    public static ManagedGarbageBound? For(TrainingConfig config) => MemoryBoundTrials.Includes(config) ? new ManagedGarbageBound() : null;

    /// <summary>
    /// Once a memory-bound trial's base is loaded and prepared, before its training peak is measured: loading leaves
    /// ~8 MiB of managed garbage (the file's tensor wrappers, the tokenizer's and the dataset's temporaries) in regions the
    /// GC keeps committed, and they would count in every training peak that follows. An aggressive collection frees them
    /// and gives their pages back (measured with a 4 MiB <see cref="Check"/> alone: bf16 + NF4 305–309 MiB after 2 and 8
    /// steps; with this as well, 292–304).
    /// </summary>
    public static void CollectLoadingGarbage(TrainingConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (MemoryBoundTrials.Includes(config)) GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    /// <summary>Collections made so far by this bound (what its tests observe).</summary>
    public int Collections { get; private set; }

    /// <summary>Collects generation 0 when more than <see cref="AllocationBytes"/> were allocated since the last collection; call between steps.</summary>
    public void Check()
    {
        if (GC.GetTotalAllocatedBytes() - _allocatedAtLastCollection < AllocationBytes) return;
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        Collections++;
        _allocatedAtLastCollection = GC.GetTotalAllocatedBytes();
    }
}
