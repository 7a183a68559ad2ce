using Orchestrator.Trainer.Lora;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Packing;

/// <summary>
/// One layer's adapters of a pack's active members as single parameters: A [K, R, in] and B [K, out, R], member j's
/// A_j and B_j zero-padded to the pack's largest rank R, with their AdamW moments stacked the same way. Padding is
/// exact: a padded row of A meets a zero column of B, so neither gets a gradient, a moment or a weight-decay change,
/// and stays zero. One bmm pair computes every member's update; one optimizer step moves every member.
/// </summary>
public sealed class StackedLoraLayer : IDisposable
{
    public StackedLoraLayer(IReadOnlyList<LoraLinear> members, Device device)
    {
        if (members.Count == 0) throw new ArgumentException("A stack has at least one member.", nameof(members));
        Members = members;
        Ranks = members.Select(m => m.Rank).ToArray();
        MaxRank = Ranks.Max();
        var first = members[0];
        In = first.LoraA.shape[1];
        Out = first.LoraB.shape[0];
        var dtype = first.LoraA.dtype;
        A = new Parameter(zeros([members.Count, MaxRank, In], dtype: dtype, device: device));
        B = new Parameter(zeros([members.Count, Out, MaxRank], dtype: dtype, device: device));
        ExpAvgA = zeros_like(A);
        ExpAvgSqA = zeros_like(A);
        ExpAvgB = zeros_like(B);
        ExpAvgSqB = zeros_like(B);
        Scaling = tensor(members.Select(m => (float)m.Scaling).ToArray(), dtype: dtype, device: device).view(-1, 1, 1);
    }

    /// <summary>The member adapters in stack order (position j is member j of the stack, not of the pack).</summary>
    public IReadOnlyList<LoraLinear> Members { get; }
    public int[] Ranks { get; }
    public int MaxRank { get; }
    public long In { get; }
    public long Out { get; }
    public Parameter A { get; }
    public Parameter B { get; }
    public Tensor ExpAvgA { get; }
    public Tensor ExpAvgSqA { get; }
    public Tensor ExpAvgB { get; }
    public Tensor ExpAvgSqB { get; }
    /// <summary>alpha / r (or rsLoRA's alpha / √r) per member, [K, 1, 1].</summary>
    public Tensor Scaling { get; }

    /// <summary>Member j's A and B, unpadded (views into the stack).</summary>
    public Tensor MemberA(int j) => A[j].narrow(0, 0, Ranks[j]);
    public Tensor MemberB(int j) => B[j].narrow(1, 0, Ranks[j]);

    /// <summary>Copies member j's weights and moments in (no states: moments stay zero, as before a first step).</summary>
    public void Load(int j, AdamW.State? stateA = null, AdamW.State? stateB = null)
    {
        using var _ = no_grad();
        var r = Ranks[j];
        var member = Members[j];
        A[j].narrow(0, 0, r).copy_(member.LoraA);
        B[j].narrow(1, 0, r).copy_(member.LoraB);
        if (stateA is null || stateB is null) return;
        ExpAvgA[j].narrow(0, 0, r).copy_(stateA.exp_avg);
        ExpAvgSqA[j].narrow(0, 0, r).copy_(stateA.exp_avg_sq);
        ExpAvgB[j].narrow(1, 0, r).copy_(stateB.exp_avg);
        ExpAvgSqB[j].narrow(1, 0, r).copy_(stateB.exp_avg_sq);
    }

    /// <summary>Copies member j's weights and moments out, to its own adapter and optimizer state (checkpoints, evaluation, adapter files read those).</summary>
    public void Store(int j, AdamW.State stateA, AdamW.State stateB)
    {
        using var _ = no_grad();
        var r = Ranks[j];
        var member = Members[j];
        member.LoraA.copy_(A[j].narrow(0, 0, r));
        member.LoraB.copy_(B[j].narrow(1, 0, r));
        stateA.exp_avg.copy_(ExpAvgA[j].narrow(0, 0, r));
        stateA.exp_avg_sq.copy_(ExpAvgSqA[j].narrow(0, 0, r));
        stateB.exp_avg.copy_(ExpAvgB[j].narrow(1, 0, r));
        stateB.exp_avg_sq.copy_(ExpAvgSqB[j].narrow(1, 0, r));
    }

    /// <summary>The low-rank updates of x3 [K, n, in]: [K, n, out], one bmm pair over the padded stack.</summary>
    public Tensor Update(Tensor x3) => x3.bmm(A.transpose(1, 2)).bmm(B.transpose(1, 2)).mul_(Scaling);

    /// <summary>The same, one bmm pair per distinct rank over the unpadded members of that rank, back in stack order.</summary>
    public Tensor GroupedUpdate(Tensor x3)
    {
        var groups = Enumerable.Range(0, Ranks.Length).GroupBy(j => Ranks[j]).ToList();
        if (groups.Count == 1) return Update(x3);
        var parts = new Tensor[Ranks.Length];
        foreach (var group in groups)
        {
            var positions = group.ToArray();
            var index = tensor(positions.Select(j => (long)j).ToArray(), device: x3.device);
            var r = group.Key;
            var a = A.index_select(0, index).narrow(1, 0, r);
            var b = B.index_select(0, index).narrow(2, 0, r);
            var u = x3.index_select(0, index).bmm(a.transpose(1, 2)).bmm(b.transpose(1, 2)).mul_(Scaling.index_select(0, index));
            for (var i = 0; i < positions.Length; i++) parts[positions[i]] = u[i];
        }
        return stack(parts);
    }

    /// <summary>Member j's update of its own rows x [n…, in]: two small matmuls.</summary>
    public Tensor MemberUpdate(int j, Tensor x) =>
        nn.functional.linear(nn.functional.linear(x, MemberA(j)), MemberB(j)).mul_(Members[j].Scaling);

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
        ExpAvgA.Dispose();
        ExpAvgSqA.Dispose();
        ExpAvgB.Dispose();
        ExpAvgSqB.Dispose();
        Scaling.Dispose();
    }
}
