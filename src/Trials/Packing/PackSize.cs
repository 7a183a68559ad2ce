using Orchestrator.Trials.Estimation;

namespace Orchestrator.Trials.Packing;

/// <summary>
/// How many trials fit in one pack on a slot (`pack: auto`, and the cap on `pack: K`): the frozen weights are held
/// once, while each member adds its own adapter, gradients, optimizer state and activations.
/// </summary>
public static class PackSize
{
    /// <summary>The memory of a pack of <paramref name="members"/> trials, each estimated alone as <paramref name="alone"/>.</summary>
    public static long Bytes(MemoryEstimate alone, int members)
    {
        ArgumentNullException.ThrowIfNull(alone);
        ArgumentOutOfRangeException.ThrowIfLessThan(members, 1);
        // An adapter's weights are as large as its gradients (both one value per trainable parameter).
        var perMember = alone.GradientBytes + alone.OptimizerBytes + alone.ActivationBytes;
        return alone.WeightsBytes + (members - 1) * alone.GradientBytes + members * perMember;
    }

    /// <summary>
    /// The largest pack, at most <paramref name="max"/>, whose <see cref="Bytes"/> fit in <paramref name="slotBytes"/>;
    /// 1 when even two do not fit. A slot that does not know its memory (0) takes <paramref name="max"/>.
    /// </summary>
    public static int Fit(MemoryEstimate alone, long slotBytes, int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        if (slotBytes <= 0) return max;
        var k = 1;
        while (k < max && Bytes(alone, k + 1) <= slotBytes) k++;
        return k;
    }
}
