using Orchestrator.Trials.Estimation;
using Orchestrator.Trainer.Packing;

namespace Orchestrator.Trainer.Tests.Packing;

public sealed class PackSizeTests
{
    // 100 MB of frozen weights; each trial alone adds 1 MB of gradients, 2 MB of AdamW state and 7 MB of activations.
    private static readonly MemoryEstimate Alone = new(WeightsBytes: 100_000_000, GradientBytes: 1_000_000, OptimizerBytes: 2_000_000, ActivationBytes: 7_000_000);

    [Fact]
    public void A_pack_holds_the_frozen_weights_once_and_each_members_adapter_gradients_optimizer_state_and_activations()
    {
        Assert.Equal(Alone.TotalBytes, PackSize.Bytes(Alone, 1));
        Assert.Equal(100_000_000 + 3 * 1_000_000 + 4 * 10_000_000, PackSize.Bytes(Alone, 4));
    }

    [Theory]
    [InlineData(150_000_000L, 16, 4)]  // 4 members: 143 MB; 5: 154 MB
    [InlineData(150_000_000L, 3, 3)]   // the sweep's K caps what would fit
    [InlineData(105_000_000L, 16, 1)]  // not even two fit: the trial trains alone
    [InlineData(0L, 8, 8)]             // a slot that does not know its memory takes the cap
    public void Auto_takes_the_largest_pack_that_fits_the_slot_up_to_the_cap(long slotBytes, int max, int expected) =>
        Assert.Equal(expected, PackSize.Fit(Alone, slotBytes, max));
}
