using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Packing;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Packing;

public sealed class PackedLoraLinearTests
{
    private sealed record Packed(PackedLoraLinear Layer, StackedLoraLayer Stack, List<LoraLinear> Members, List<Generator> Generators);

    private static Packed Layer(params int[] ranks)
    {
        var baseLayer = nn.Linear(16, 12);
        var members = ranks.Select((r, i) => new LoraLinear(baseLayer, new LoraLayerSettings(r, 2 * r), seed: i + 1)).ToList();
        using (no_grad())
            foreach (var m in members) m.LoraB.normal_(0, 0.1); // B starts at zero; give the update something to show
        var generators = ranks.Select((_, i) => new Generator((ulong)(i + 7), CPU)).ToList();
        var stack = new StackedLoraLayer(members, CPU);
        for (var j = 0; j < members.Count; j++) stack.Load(j);
        var layer = new PackedLoraLinear(baseLayer, members) { Stack = stack };
        return new Packed(layer, stack, members, generators);
    }

    [Theory]
    [InlineData(LowRankBatching.Padded)]
    [InlineData(LowRankBatching.GroupedByRank)]
    [InlineData(LowRankBatching.PerMember)]
    public void Each_members_rows_get_its_own_update_and_gradient_whatever_the_batching_and_ranks(LowRankBatching batching)
    {
        var (layer, stack, members, generators) = Layer(2, 4, 4, 1);
        layer.Batching = batching;
        layer.Slices = members.Select((_, i) => new PackSlice(i, 3, generators[i])).ToList();
        using var x = randn(12, 5, 16);

        var packed = layer.forward(x);
        packed.sum().backward();

        for (var i = 0; i < members.Count; i++)
        {
            var alone = members[i].forward(x.narrow(0, 3 * i, 3));
            Assert.True(alone.allclose(packed.narrow(0, 3 * i, 3), rtol: 1e-5, atol: 1e-6), $"member {i}'s rows");
            alone.sum().backward();
            var r = members[i].Rank;
            Assert.True(members[i].LoraA.grad!.allclose(stack.A.grad![i].narrow(0, 0, r), rtol: 1e-5, atol: 1e-6), $"member {i}'s dA");
            Assert.True(members[i].LoraB.grad!.allclose(stack.B.grad![i].narrow(1, 0, r), rtol: 1e-5, atol: 1e-6), $"member {i}'s dB");
        }
    }

    [Fact]
    public void Zero_padding_to_the_largest_rank_gets_no_gradient_and_leaves_the_smaller_ranks_update_unchanged()
    {
        var (layer, stack, members, generators) = Layer(1, 8);
        layer.Slices = [new PackSlice(0, 4, generators[0]), new PackSlice(1, 4, generators[1])];
        using var x = randn(8, 16);
        var packed = layer.forward(x);
        packed.sum().backward();
        using var noGrad = no_grad();
        var small = members[0].forward(x.narrow(0, 0, 4));
        Assert.True(small.allclose(packed.narrow(0, 0, 4), rtol: 1e-6, atol: 1e-6));
        Assert.Equal(0, stack.A.grad![0].narrow(0, 1, 7).abs().sum().item<float>());
        Assert.Equal(0, stack.B.grad![0].narrow(1, 1, 7).abs().sum().item<float>());
    }

    [Fact]
    public void Members_with_different_row_counts_still_get_their_own_rows_updated()
    {
        // A pack whose members resumed at different steps: one is in its epoch's short last batch.
        var (layer, _, members, generators) = Layer(4, 8);
        layer.Slices = [new PackSlice(0, 5, generators[0]), new PackSlice(1, 2, generators[1])];
        using var x = randn(7, 16);
        using var noGrad = no_grad();
        var packed = layer.forward(x);
        Assert.True(members[0].forward(x.narrow(0, 0, 5)).allclose(packed.narrow(0, 0, 5), rtol: 1e-5, atol: 1e-6));
        Assert.True(members[1].forward(x.narrow(0, 5, 2)).allclose(packed.narrow(0, 5, 2), rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Without_a_stack_a_layer_runs_one_member_only()
    {
        var (layer, _, members, generators) = Layer(2, 4);
        layer.Stack = null;
        layer.Slices = [new PackSlice(0, 2, generators[0]), new PackSlice(1, 2, generators[1])];
        using var x = randn(4, 16);
        Assert.Throws<InvalidOperationException>(() => layer.forward(x));
        layer.Slices = [new PackSlice(1, 4, generators[1])];
        using var noGrad = no_grad();
        Assert.True(members[1].forward(x).allclose(layer.forward(x)));
    }
}
