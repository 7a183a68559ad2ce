using Orchestrator.Trainer.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Packing;

/// <summary>
/// The active members of a pack with every layer's adapters stacked (<see cref="StackedLoraLayer"/>), so that a step
/// costs the same number of operations whatever K is: one bmm pair per layer forward, one per-member gradient
/// clipping, one AdamW update per stacked tensor with each member's own learning rate, weight decay and step count
/// as [K, 1, 1] factors. The members' own <see cref="LoraLinear"/> parameters and AdamW states stay the record:
/// <see cref="Store"/> copies a member out before anything reads them (evaluation, checkpoint, adapter files), and a
/// stack is built from them again when the pack's membership changes.
/// </summary>
internal sealed class PackStack : IDisposable
{
    private readonly IReadOnlyList<PackMember> _members;
    private readonly long[] _steps;

    public PackStack(IReadOnlyList<PackedLoraLinear> layers, IReadOnlyList<PackMember> members, Device device)
    {
        _members = members;
        Layers = layers.Select(l => new StackedLoraLayer(members.Select(m => l.Members[m.Index]).ToList(), device)).ToList();
        _steps = new long[members.Count];
        for (var j = 0; j < members.Count; j++)
        {
            for (var l = 0; l < Layers.Count; l++)
            {
                var (a, b) = States(members[j], Layers[l].Members[j]);
                Layers[l].Load(j, a, b);
                _steps[j] = a.step;
            }
        }
        LossSums = tensor(members.Select(m => m.LossSum.item<double>()).ToArray(), dtype: ScalarType.Float64, device: device);
    }

    /// <summary>The stacked layers, in the order of the pack's <see cref="PackedLoraLinear"/> layers.</summary>
    public IReadOnlyList<StackedLoraLayer> Layers { get; }
    /// <summary>The members' running training-loss sums, [K] float64.</summary>
    public Tensor LossSums { get; }
    public IReadOnlyList<PackMember> Members => _members;

    public int PositionOf(PackMember member)
    {
        for (var j = 0; j < _members.Count; j++) if (ReferenceEquals(_members[j], member)) return j;
        throw new ArgumentException("not a member of this stack", nameof(member));
    }

    /// <summary>Member j's weights, moments, step count and running loss copied out to its own adapter and optimizer.</summary>
    public void Store(int j)
    {
        var member = _members[j];
        foreach (var layer in Layers)
        {
            var (a, b) = States(member, layer.Members[j]);
            layer.Store(j, a, b);
            a.step = _steps[j];
            b.step = _steps[j];
        }
        using var _ = no_grad();
        member.LossSum.copy_(LossSums[j]);
    }

    /// <summary>After an evaluation read and reset member j's running loss.</summary>
    public void ResetLoss(int j)
    {
        using var _ = no_grad();
        LossSums[j].zero_();
    }

    public void ZeroGradients()
    {
        foreach (var layer in Layers)
        {
            layer.A.grad?.zero_();
            layer.B.grad?.zero_();
        }
    }

    /// <summary>
    /// What clip_grad_norm_ does over each member's parameters alone: member j's gradients scaled by
    /// min(1, max_j / (‖g_j‖ + 1e-6)); a member with max_j ≤ 0 is not clipped.
    /// </summary>
    public void ClipGradients(IReadOnlyList<double> maxNorms)
    {
        if (maxNorms.All(n => n <= 0)) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Tensor? squares = null;
        foreach (var g in Gradients())
        {
            var s = g.pow(2).sum([1, 2]);
            squares = squares is null ? s : squares.add_(s);
        }
        if (squares is null) return;
        var max = tensor(maxNorms.Select(n => n > 0 ? (float)n : float.PositiveInfinity).ToArray(), dtype: squares.dtype, device: squares.device);
        var coefficient = max.div_(squares.sqrt_().add_(1e-6)).clamp_max_(1.0).view(-1, 1, 1);
        foreach (var g in Gradients()) g.mul_(coefficient);
    }

    /// <summary>One AdamW step (torch's decoupled weight decay, bias-corrected moments) for every member at its own lr and weight decay.</summary>
    public void Step(IReadOnlyList<double> learningRates, IReadOnlyList<double> weightDecays)
    {
        var k = _members.Count;
        var decay = new float[k];
        var stepSize = new float[k];
        var biasCorrection2Root = new float[k];
        for (var j = 0; j < k; j++)
        {
            var t = ++_steps[j];
            decay[j] = (float)(1 - learningRates[j] * weightDecays[j]);
            stepSize[j] = (float)(learningRates[j] / (1 - Math.Pow(TrainingLoop.Beta1, t)));
            biasCorrection2Root[j] = (float)Math.Sqrt(1 - Math.Pow(TrainingLoop.Beta2, t));
        }
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var device = Layers[0].A.device;
        var dtype = Layers[0].A.dtype;
        Tensor Factor(float[] values) => tensor(values, dtype: dtype, device: device).view(-1, 1, 1);
        var decayT = weightDecays.Any(w => w != 0) ? Factor(decay) : null;
        var stepSizeT = Factor(stepSize);
        var rootT = Factor(biasCorrection2Root);
        foreach (var layer in Layers)
        {
            Update(layer.A, layer.ExpAvgA, layer.ExpAvgSqA);
            Update(layer.B, layer.ExpAvgB, layer.ExpAvgSqB);
        }

        void Update(Parameter p, Tensor expAvg, Tensor expAvgSq)
        {
            var g = p.grad;
            if (g is null) return;
            if (decayT is not null) p.mul_(decayT);
            expAvg.mul_(TrainingLoop.Beta1).add_(g, alpha: 1 - TrainingLoop.Beta1);
            expAvgSq.mul_(TrainingLoop.Beta2).addcmul_(g, g, value: 1 - TrainingLoop.Beta2);
            var denominator = expAvgSq.sqrt().div_(rootT).add_(TrainingLoop.Epsilon);
            p.addcdiv_(expAvg.mul(stepSizeT), denominator, value: -1);
        }
    }

    private IEnumerable<Tensor> Gradients()
    {
        foreach (var layer in Layers)
        {
            if (layer.A.grad is { } a) yield return a;
            if (layer.B.grad is { } b) yield return b;
        }
    }

    /// <summary>The member's AdamW states of one adapter's A and B (its optimizer's state list is in its parameters' order).</summary>
    private static (AdamW.State A, AdamW.State B) States(PackMember member, Lora.LoraLinear adapter)
    {
        var states = member.Optimizer.state_dict().State;
        int IndexOf(Parameter p)
        {
            for (var i = 0; i < member.Parameters.Count; i++) if (ReferenceEquals(member.Parameters[i], p)) return i;
            throw new InvalidOperationException("an adapter's parameter is not among its member's trainable parameters");
        }
        return ((AdamW.State)states[IndexOf(adapter.LoraA)], (AdamW.State)states[IndexOf(adapter.LoraB)]);
    }

    public void Dispose()
    {
        foreach (var layer in Layers) layer.Dispose();
        LossSums.Dispose();
    }
}
