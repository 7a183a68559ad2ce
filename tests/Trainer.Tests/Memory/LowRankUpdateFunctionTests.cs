using Orchestrator.Trainer.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Memory;

public sealed class LowRankUpdateFunctionTests
{
    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void Over_a_half_precision_input_it_gives_the_update_and_the_gradients_of_the_widened_two_linear_graph(ScalarType inputType)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        var a = randn([4, 24], generator: generator).requires_grad_();
        var b = randn([16, 4], generator: generator).requires_grad_();
        var x = randn([3, 5, 24], generator: generator).to(inputType).requires_grad_();
        var upstream = randn([3, 5, 16], generator: generator);

        // What LoraLinear computed before: the input widened to fp32 and kept by autograd for the backward.
        var reference = nn.functional.linear(nn.functional.linear(x.to(ScalarType.Float32), a), b);
        var (referenceX, referenceA, referenceB) = Gradients(reference, upstream, x, a, b);

        var update = LowRankUpdateFunction.Apply(x, a, b);
        var (gradX, gradA, gradB) = Gradients(update, upstream, x, a, b);

        Assert.Equal(ScalarType.Float32, update.dtype);
        Assert.True(update.detach().allclose(reference.detach(), rtol: 0, atol: 0), "the forward differs");
        Assert.Equal(inputType, gradX.dtype);
        Assert.True(gradA.allclose(referenceA, rtol: 1e-6, atol: 1e-6), "lora_A's gradient differs");
        Assert.True(gradB.allclose(referenceB, rtol: 1e-6, atol: 1e-6), "lora_B's gradient differs");
        Assert.True(gradX.to(ScalarType.Float32).allclose(referenceX.to(ScalarType.Float32), rtol: 1e-2, atol: 1e-3), "the input's gradient differs");
    }

    private static (Tensor X, Tensor A, Tensor B) Gradients(Tensor output, Tensor upstream, Tensor x, Tensor a, Tensor b)
    {
        x.grad?.zero_();
        a.grad?.zero_();
        b.grad?.zero_();
        output.backward([upstream]);
        return (x.grad!.clone(), a.grad!.clone(), b.grad!.clone());
    }
}
