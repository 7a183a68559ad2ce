using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Models;

/// <summary>
/// Inverted dropout (keep with probability 1 − p, scale kept values by 1/(1 − p)) whose masks are drawn from
/// <see cref="Generator"/>, which the training loop sets to the trial's own generator. Torch's dropout draws from
/// the process-wide generator, so two trials training at once in one process would share one stream and neither
/// would be reproducible. Identity in evaluation mode.
/// </summary>
public sealed class GeneratorDropout : nn.Module<Tensor, Tensor>
{
    public GeneratorDropout(double p) : base(nameof(GeneratorDropout))
    {
        if (p is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout must be in [0, 1).");
        P = p;
    }

    public double P { get; }

    /// <summary>Where masks come from while training; null falls back to torch's process-wide generator.</summary>
    public Generator? Generator { get; set; }

    public override Tensor forward(Tensor input)
    {
        if (!training || P == 0) return input.alias();
        using var scope = NewDisposeScope();
        // Drawn on the CPU so one generator gives the same masks on every device.
        var mask = rand(input.shape, dtype: input.dtype, generator: Generator).ge_(P).div_(1 - P);
        if (input.device.type != DeviceType.CPU) mask = mask.to(input.device);
        return input.mul(mask).MoveToOuterDisposeScope();
    }

    /// <summary>Points every <see cref="GeneratorDropout"/> in <paramref name="model"/> at <paramref name="generator"/> (null to detach).</summary>
    public static void Use(nn.Module model, Generator? generator)
    {
        foreach (var dropout in model.modules().OfType<GeneratorDropout>()) dropout.Generator = generator;
    }
}
