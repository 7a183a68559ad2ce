using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Models;

/// <summary>
/// PyTorch's default Linear initialisation, drawn from an explicit generator so that a model built from a seed is
/// the same on every run and in every thread (the global RNG is shared by everything in the process).
/// </summary>
public static class LinearInit
{
    /// <summary>Creates a Linear with weight and bias ~ U(-1/√in, 1/√in), as torch.nn.Linear.reset_parameters does.</summary>
    public static Linear Create(long inFeatures, long outFeatures, bool hasBias, Generator generator)
    {
        var linear = nn.Linear(inFeatures, outFeatures, hasBias);
        Reset(linear, generator);
        return linear;
    }

    public static void Reset(Linear linear, Generator generator)
    {
        var bound = 1.0 / Math.Sqrt(linear.in_features);
        using (no_grad())
        {
            // Tensor.uniform_, not nn.init.uniform_: the latter ignores its generator in TorchSharp 0.107.
            linear.weight!.uniform_(-bound, bound, generator);
            linear.bias?.uniform_(-bound, bound, generator);
        }
    }

    public static Generator Generator(long seed) => new(unchecked((ulong)seed), CPU);
}
