using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Models;

/// <summary>
/// The rank study's MNIST classifier: 784-64-64-10, ReLU, dropout after each hidden layer. Takes [B, 784] or
/// [B, 1, 28, 28] (flattened from dim 1) and returns logits [B, 10].
/// </summary>
/// <remarks>
/// The study calls F.dropout with its default p = 0.5, so that is the default here; unlike the study (whose
/// functional dropout also fires at evaluation) dropout runs only in training mode. Its masks come from the trial's
/// generator (<see cref="GeneratorDropout"/>), not torch's process-wide one.
/// </remarks>
public sealed class MlpModel : nn.Module<Tensor, Tensor>
{
    public const int InputSize = 28 * 28;
    public const int HiddenSize = 64;
    public const int Classes = 10;
    public const double DefaultDropout = 0.5;

    // Linear modules live in Module<Tensor, Tensor> fields named as their module paths, so LoRA injection can swap them.
#pragma warning disable IDE1006
    private nn.Module<Tensor, Tensor> l1;
    private nn.Module<Tensor, Tensor> l2;
    private nn.Module<Tensor, Tensor> l3;
    private readonly GeneratorDropout drop1;
    private readonly GeneratorDropout drop2;
#pragma warning restore IDE1006
    private readonly double dropout;

    public MlpModel(long seed, double dropout = DefaultDropout) : base(nameof(MlpModel))
    {
        if (dropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "Dropout must be in [0, 1).");
        this.dropout = dropout;
        using var generator = LinearInit.Generator(seed);
        l1 = LinearInit.Create(InputSize, HiddenSize, hasBias: true, generator);
        l2 = LinearInit.Create(HiddenSize, HiddenSize, hasBias: true, generator);
        l3 = LinearInit.Create(HiddenSize, Classes, hasBias: true, generator);
        drop1 = new GeneratorDropout(dropout);
        drop2 = new GeneratorDropout(dropout);
        RegisterComponents();
    }

    public double Dropout => dropout;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input.dim() > 2 ? input.flatten(1) : input;
        x = drop1.forward(nn.functional.relu(l1.forward(x)));
        x = drop2.forward(nn.functional.relu(l2.forward(x)));
        return l3.forward(x).MoveToOuterDisposeScope();
    }
}
