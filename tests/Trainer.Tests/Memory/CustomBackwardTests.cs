using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Memory.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Memory;

/// <summary>
/// The custom autograd functions' backwards leave nothing in the caller's dispose scope (a training step's): before
/// <c>CustomBackward</c>, each one left its incoming gradient and its returned gradients there until the step ended.
/// </summary>
public sealed class CustomBackwardTests
{
    private const int Layers = 6;

    [Fact]
    public void A_backward_through_quantised_linear_layers_adds_no_tensor_to_the_steps_dispose_scope()
    {
        using var scope = NewDisposeScope();
        var weights = Enumerable.Range(0, Layers).Select(i => Nf4.Quantize(randn([64, 64], generator: new Generator((ulong)i)))).ToList();
        var hidden = randn([5, 64], generator: new Generator(9)).requires_grad_(true);
        foreach (var weight in weights) hidden = QuantizedLinearFunction.Apply(hidden, weight, null);
        var loss = hidden.pow(2).sum();
        var before = scope.DisposablesCount;

        loss.backward();

        Assert.Equal(before, scope.DisposablesCount);
        foreach (var weight in weights) weight.Dispose();
    }

    [Fact]
    public void A_backward_through_low_rank_updates_of_a_bf16_input_adds_no_tensor_to_the_steps_dispose_scope()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(3);
        var input = randn([5, 32], generator: generator).to(ScalarType.BFloat16).requires_grad_(true);
        var adapters = Enumerable.Range(0, Layers).Select(_ => (A: randn([4, 32], generator: generator).requires_grad_(true), B: randn([32, 4], generator: generator).requires_grad_(true))).ToList();
        var total = adapters.Select(p => LowRankUpdateFunction.Apply(input, p.A, p.B)).Aggregate((a, b) => a + b);
        var loss = total.pow(2).sum();
        var before = scope.DisposablesCount;

        loss.backward();

        Assert.Equal(before, scope.DisposablesCount);
        Assert.All(adapters, p => Assert.NotNull(p.A.grad));
    }
}
