using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;
using Orchestrator.Trainer.Memory.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Packing;

/// <summary>How the low-rank products of a stacked pack's members are computed in one layer.</summary>
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
/// all of them, and member k's rows get dropout_k(x_k) A_kᵀ B_kᵀ · scaling_k. While a pack of several trains, the
/// members' adapters are stacked (<see cref="Stack"/>) and one bmm pair computes every update; each member's own
/// <see cref="LoraLinear"/> (wrapping the same base layer) is the record its names, checkpoints, evaluations and
/// adapter files come from, exactly those of the same trial alone.
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

    /// <summary>
    /// The active members' adapters stacked (<see cref="StackedLoraLayer"/>), set by the packed loop for its training
    /// steps: the slices are then the stack's members in stack order. Null: each member's own <see cref="LoraLinear"/>
    /// (a pack of one, and every evaluation).
    /// </summary>
    public StackedLoraLayer? Stack { get; set; }

    public override Tensor forward(Tensor input)
    {
        var slices = Slices;
        if (slices.Count == 0) throw new InvalidOperationException("No member of the pack is active in this forward pass.");
        using var scope = NewDisposeScope();
        var result = FrozenLinear.Forward(base_layer, input); // through its quantised weight when the base is quantised
        if (Stack is { } stacked) return result.add_(StackedUpdate(stacked, AdapterInput(Dropped(input, slices)), slices).reshape(result.shape)).MoveToOuterDisposeScope();
        if (slices.Count != 1) throw new InvalidOperationException("Several members train through a stack (PackedLoraLinear.Stack).");
        // One member: the very operations of LoraLinear.forward, so a pack of one is the trial alone, bit for bit.
        var member = _members[slices[0].Member];
        var update = nn.functional.linear(nn.functional.linear(AdapterInput(Dropped(input, slices)), member.LoraA), member.LoraB).mul_(member.Scaling);
        return result.add_(update).MoveToOuterDisposeScope();
    }

    /// <summary>The adapters' input in their own type (fp32) when the shared base computes in half precision (base_dtype), as LoraLinear does.</summary>
    private Tensor AdapterInput(Tensor x) => x.to(_members[0].LoraA.dtype);

    /// <summary>The input with each member's LoRA dropout applied to its rows (masks from its own generator, none drawn at p = 0).</summary>
    private Tensor Dropped(Tensor input, IReadOnlyList<PackSlice> slices)
    {
        if (!training || slices.All(s => _members[s.Member].Settings.Dropout == 0)) return input;
        // A copy with each dropping member's rows scaled in place: members at p = 0 cost nothing (no mask of ones).
        var dropped = input.clone();
        long start = 0;
        foreach (var slice in slices)
        {
            var p = _members[slice.Member].Settings.Dropout;
            if (p > 0)
            {
                var rows = dropped.narrow(0, start, slice.Rows);
                var shape = rows.shape;
                var mask = GeneratorDropout.Mask(shape, input.dtype, p, slice.Generator);
                rows.mul_(input.device.type == DeviceType.CPU ? mask : mask.to(input.device));
            }
            start += slice.Rows;
        }
        return dropped;
    }

    /// <summary>Every stacked member's update on its rows: one bmm pair (or one per rank), member by member when their rows differ.</summary>
    private Tensor StackedUpdate(StackedLoraLayer stacked, Tensor x, IReadOnlyList<PackSlice> slices)
    {
        if (slices.Count != stacked.Members.Count) throw new InvalidOperationException("A stacked forward pass carries every member of the stack.");
        var rows = slices[0].Rows;
        if (Batching != LowRankBatching.PerMember && slices.All(s => s.Rows == rows))
        {
            var x3 = x.reshape(slices.Count, -1, x.shape[^1]);
            return Batching == LowRankBatching.GroupedByRank ? stacked.GroupedUpdate(x3) : stacked.Update(x3);
        }
        var parts = new List<Tensor>(slices.Count);
        long start = 0;
        for (var j = 0; j < slices.Count; j++)
        {
            parts.Add(stacked.MemberUpdate(j, x.narrow(0, start, slices[j].Rows)));
            start += slices[j].Rows;
        }
        return cat(parts, 0);
    }
}

/// <summary>One member's place in a packed batch: its index in the pack, its rows, and its dropout generator.</summary>
public sealed record PackSlice(int Member, long Rows, Generator Generator);

