using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Lora;

internal static class TensorAssertions
{
    /// <summary>Same shape and exactly the same values.</summary>
    public static bool Same(this Tensor actual, Tensor expected) =>
        actual.shape.SequenceEqual(expected.shape) && actual.allclose(expected, rtol: 0, atol: 0);
}
