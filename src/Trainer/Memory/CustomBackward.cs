using static TorchSharp.torch;

namespace Orchestrator.Trainer.Memory;

/// <summary>
/// Runs a custom autograd function's backward so that it holds no tensor past its own return. TorchSharp wraps the
/// incoming gradient in a C# tensor that lives in whatever dispose scope is current (a training step's: the backward runs
/// on the thread that called it), and the gradients a backward returns would live there too, so every custom node's
/// gradient in and out stayed allocated until the whole step ended: for a quantised base, two activation-sized tensors
/// per linear layer. Here the body runs in its own scope, the incoming gradient's wrapper is released when it returns,
/// and the returned gradients are released at the next custom backward on the same thread (TorchSharp hands them to
/// libtorch, which keeps its own reference, after the body returns).
/// </summary>
public static class CustomBackward
{
    [ThreadStatic] private static List<Tensor>? _returnedLast;

    public static List<Tensor> Run(Tensor gradOutput, Func<List<Tensor>> body)
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        ArgumentNullException.ThrowIfNull(body);
        ReleaseReturned();
        List<Tensor> gradients;
        using (NewDisposeScope())
        {
            gradients = body();
            foreach (var gradient in gradients) gradient?.DetachFromDisposeScope();
        }
        gradOutput.Dispose();
        _returnedLast = gradients;
        return gradients;
    }

    private static void ReleaseReturned()
    {
        if (_returnedLast is not { } returned) return;
        _returnedLast = null;
        foreach (var gradient in returned) gradient?.Dispose();
    }
}
