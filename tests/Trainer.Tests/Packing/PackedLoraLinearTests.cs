using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Packing;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Packing;

public sealed class PackedLoraLinearTests
{
    private static (PackedLoraLinear Layer, List<LoraLinear> Members, List<Generator> Generators) Layer(params int[] ranks)
    {
        var baseLayer = nn.Linear(16, 12);
        var members = ranks.Select((r, i) => new LoraLinear(baseLayer, new LoraLayerSettings(r, 2 * r), seed: i + 1)).ToList();
        using (no_grad())
            foreach (var m in members) m.LoraB.normal_(0, 0.1); // B starts at zero; give the update something to show
        var generators = ranks.Select((_, i) => new Generator((ulong)(i + 7), CPU)).ToList();
        return (new PackedLoraLinear(baseLayer, members), members, generators);
    }

    [Theory]
    [InlineData(LowRankBatching.Padded)]
    [InlineData(LowRankBatching.GroupedByRank)]
    [InlineData(LowRankBatching.PerMember)]
    public void Each_members_rows_get_its_own_update_and_gradient_whatever_the_batching_and_ranks(LowRankBatching batching)
    {
        var (layer, members, generators) = Layer(2, 4, 4, 1);
        layer.Batching = batching;
        layer.Slices = members.Select((_, i) => new PackSlice(i, 3, generators[i])).ToList();
        using var x = randn(12, 5, 16);

        var packed = layer.forward(x);
        packed.sum().backward();
        var packedGrads = members.Select(m => (A: m.LoraA.grad!.clone(), B: m.LoraB.grad!.clone())).ToList();

        foreach (var m in members) { m.LoraA.grad!.zero_(); m.LoraB.grad!.zero_(); }
        for (var i = 0; i < members.Count; i++)
        {
            var alone = members[i].forward(x.narrow(0, 3 * i, 3));
            Assert.True(alone.allclose(packed.narrow(0, 3 * i, 3), rtol: 1e-5, atol: 1e-6), $"member {i}'s rows");
            alone.sum().backward();
            Assert.True(members[i].LoraA.grad!.allclose(packedGrads[i].A, rtol: 1e-5, atol: 1e-6), $"member {i}'s dA");
            Assert.True(members[i].LoraB.grad!.allclose(packedGrads[i].B, rtol: 1e-5, atol: 1e-6), $"member {i}'s dB");
        }
    }

    [Fact]
    public void Zero_padding_to_the_largest_rank_leaves_the_smaller_ranks_update_unchanged()
    {
        var (layer, members, generators) = Layer(1, 8);
        layer.Slices = [new PackSlice(0, 4, generators[0]), new PackSlice(1, 4, generators[1])];
        using var x = randn(8, 16);
        using var noGrad = no_grad();
        var packed = layer.forward(x);
        var small = members[0].forward(x.narrow(0, 0, 4));
        Assert.True(small.allclose(packed.narrow(0, 0, 4), rtol: 1e-6, atol: 1e-6));
    }

    [Fact]
    public void Members_with_different_row_counts_still_get_their_own_rows_updated()
    {
        // A pack whose members resumed at different steps: one is in its epoch's short last batch.
        var (layer, members, generators) = Layer(4, 8);
        layer.Slices = [new PackSlice(0, 5, generators[0]), new PackSlice(1, 2, generators[1])];
        using var x = randn(7, 16);
        using var noGrad = no_grad();
        var packed = layer.forward(x);
        Assert.True(members[0].forward(x.narrow(0, 0, 5)).allclose(packed.narrow(0, 0, 5), rtol: 1e-5, atol: 1e-6));
        Assert.True(members[1].forward(x.narrow(0, 5, 2)).allclose(packed.narrow(0, 5, 2), rtol: 1e-5, atol: 1e-6));
    }
}
