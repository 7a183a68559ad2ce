using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Packing;

/// <summary>How the low-rank products of a pack's members are batched in one layer.</summary>
public enum LowRankBatching
{
    /// <summary>One pair of bmm over every member's A and B, zero-padded to the pack's largest rank (exact: padded rows and columns stay zero and get no gradient into any member's weights).</summary>
    Padded,
    /// <summary>One pair of bmm per distinct rank, members of a rank stacked together.</summary>
    GroupedByRank,
    /// <summary>Two small matmuls per member, one after another: the reference the other two are measured against.</summary>
    PerMember,
}

/// <summary>
/// A frozen <see cref="Linear"/> shared by the members of a pack, each with its own LoRA update: the batch is the
/// members' micro-batches one after another along dim 0 (<see cref="Slices"/>), the frozen product runs once over
/// all of them, and member k's rows get dropout_k(x_k) A_kᵀ B_kᵀ · scaling_k. Each member's A and B live in its own
/// <see cref="LoraLinear"/> (wrapping the same base layer), so its parameters, names, optimizer state, checkpoints and
/// adapter files are exactly those of the same trial alone.
/// </summary>
public sealed class PackedLoraLinear : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // registered component name, as LoraLinear's
    private readonly Linear base_layer;
#pragma warning restore IDE1006
    private readonly IReadOnlyList<LoraLinear> _members;

    public PackedLoraLinear(Linear baseLayer, IReadOnlyList<LoraLinear> members) : base(nameof(PackedLoraLinear))
    {
        ArgumentNullException.ThrowIfNull(baseLayer);
        if (members.Count == 0) throw new ArgumentException("A pack has at least one member.", nameof(members));
        if (members.Any(m => !ReferenceEquals(m.BaseLayer, baseLayer)))
            throw new ArgumentException("Every member's adapter must wrap the pack's base layer.", nameof(members));
        base_layer = baseLayer;
        _members = members;
        RegisterComponents();
    }

    /// <summary>The adapter of each member, by member index.</summary>
    public IReadOnlyList<LoraLinear> Members => _members;

    public Linear BaseLayer => base_layer;

    /// <summary>The members in this step's batch, in batch order, with their rows and dropout generators. Set by the packed loop before each forward.</summary>
    public IReadOnlyList<PackSlice> Slices { get; set; } = [];

    public LowRankBatching Batching { get; set; } = LowRankBatching.Padded;

    public override Tensor forward(Tensor input)
    {
        var slices = Slices;
        if (slices.Count == 0) throw new InvalidOperationException("No member of the pack is active in this forward pass.");
        using var scope = NewDisposeScope();
        var result = base_layer.forward(input);
        if (slices.Count == 1)
        {
            // One member: the very operations of LoraLinear.forward, so a pack of one is the trial alone, bit for bit.
            var member = _members[slices[0].Member];
            var dropped = Dropped(input, slices);
            var update = nn.functional.linear(nn.functional.linear(dropped, member.LoraA), member.LoraB).mul_(member.Scaling);
            return result.add_(update).MoveToOuterDisposeScope();
        }

        var x = Dropped(input, slices);
        var rows = slices[0].Rows;
        var uniform = slices.All(s => s.Rows == rows) && Batching != LowRankBatching.PerMember;
        var updates = uniform
            ? (Batching == LowRankBatching.Padded ? PaddedUpdate(x, slices) : GroupedUpdate(x, slices))
            : PerMemberUpdate(x, slices);
        return result.add_(updates.reshape(result.shape)).MoveToOuterDisposeScope();
    }

    /// <summary>The input with each member's LoRA dropout applied to its rows (masks from its own generator, none drawn at p = 0).</summary>
    private Tensor Dropped(Tensor input, IReadOnlyList<PackSlice> slices)
    {
        if (!training || slices.All(s => _members[s.Member].Settings.Dropout == 0)) return input;
        var masks = new List<Tensor>(slices.Count);
        foreach (var slice in slices)
        {
            var shape = input.shape.ToArray();
            shape[0] = slice.Rows;
            var p = _members[slice.Member].Settings.Dropout;
            masks.Add(p == 0 ? ones(shape, dtype: input.dtype) : GeneratorDropout.Mask(shape, input.dtype, p, slice.Generator));
        }
        var mask = masks.Count == 1 ? masks[0] : cat(masks, 0);
        if (input.device.type != DeviceType.CPU) mask = mask.to(input.device);
        return input.mul(mask);
    }

    /// <summary>[K, rows·…, out]: one bmm pair over A and B padded to the largest rank.</summary>
    private Tensor PaddedUpdate(Tensor x, IReadOnlyList<PackSlice> slices)
    {
        var members = slices.Select(s => _members[s.Member]).ToList();
        var maxRank = members.Max(m => m.Rank);
        var a = stack(members.Select(m => m.Rank == maxRank ? m.LoraA : nn.functional.pad(m.LoraA, [0, 0, 0, maxRank - m.Rank])).ToArray());
        var b = stack(members.Select(m => m.Rank == maxRank ? m.LoraB : nn.functional.pad(m.LoraB, [0, maxRank - m.Rank])).ToArray());
        return LowRank(x.reshape(slices.Count, -1, x.shape[^1]), a, b, members);
    }

    /// <summary>[K, rows·…, out]: one bmm pair per distinct rank, put back in batch order.</summary>
    private Tensor GroupedUpdate(Tensor x, IReadOnlyList<PackSlice> slices)
    {
        var x3 = x.reshape(slices.Count, -1, x.shape[^1]);
        var groups = Enumerable.Range(0, slices.Count).GroupBy(i => _members[slices[i].Member].Rank).ToList();
        if (groups.Count == 1) return PaddedUpdate(x, slices); // one rank: nothing to pad, the same single bmm pair
        var parts = new Tensor[slices.Count];
        foreach (var group in groups)
        {
            var positions = group.ToArray();
            var members = positions.Select(i => _members[slices[i].Member]).ToList();
            var xs = x3.index_select(0, tensor(positions.Select(i => (long)i).ToArray(), device: x.device));
            var u = LowRank(xs, stack(members.Select(m => (Tensor)m.LoraA).ToArray()), stack(members.Select(m => (Tensor)m.LoraB).ToArray()), members);
            for (var j = 0; j < positions.Length; j++) parts[positions[j]] = u[j];
        }
        return stack(parts);
    }

    private static Tensor LowRank(Tensor x3, Tensor a, Tensor b, IReadOnlyList<LoraLinear> members)
    {
        var scaling = tensor(members.Select(m => (float)m.Scaling).ToArray(), dtype: x3.dtype, device: x3.device).view(-1, 1, 1);
        return x3.bmm(a.transpose(1, 2)).bmm(b.transpose(1, 2)).mul_(scaling);
    }

    /// <summary>Member by member over its own rows (rows differ when a member's epoch ends in a short batch).</summary>
    private Tensor PerMemberUpdate(Tensor x, IReadOnlyList<PackSlice> slices)
    {
        var parts = new List<Tensor>(slices.Count);
        long start = 0;
        foreach (var slice in slices)
        {
            var member = _members[slice.Member];
            var rows = x.narrow(0, start, slice.Rows);
            parts.Add(nn.functional.linear(nn.functional.linear(rows, member.LoraA), member.LoraB).mul_(member.Scaling));
            start += slice.Rows;
        }
        return cat(parts, 0);
    }
}

/// <summary>One member's place in a packed batch: its index in the pack, its rows, and its dropout generator.</summary>
public sealed record PackSlice(int Member, long Rows, Generator Generator);
