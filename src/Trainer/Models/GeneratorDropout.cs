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

    /// <summary>
    /// Packed training: the batch is several trials' micro-batches one after another along dim 0, and each slice's
    /// mask comes from its own trial's generator, so every trial draws exactly the masks it draws alone. Overrides
    /// <see cref="Generator"/> while set.
    /// </summary>
    public IReadOnlyList<DropoutSlice>? Slices { get; set; }

    public override Tensor forward(Tensor input)
    {
        if (!training || P == 0) return input.alias();
        using var scope = NewDisposeScope();
        if (Slices is { } slices) return input.mul(SlicedMask(input, slices, P)).MoveToOuterDisposeScope();
        // Drawn on the CPU so one generator gives the same masks on every device.
        var mask = Mask(input.shape, input.dtype, P, Generator);
        if (input.device.type != DeviceType.CPU) mask = mask.to(input.device);
        return input.mul(mask).MoveToOuterDisposeScope();
    }

    /// <summary>Keep with probability 1 − p, scaled by 1/(1 − p); drawn on the CPU from <paramref name="generator"/>.</summary>
    public static Tensor Mask(long[] shape, ScalarType dtype, double p, Generator? generator) =>
        rand(shape, dtype: dtype, generator: generator).ge_(p).div_(1 - p);

    /// <summary>A mask for a batch of slices: rows of each drawn from the slice's generator, in slice order.</summary>
    public static Tensor SlicedMask(Tensor input, IReadOnlyList<DropoutSlice> slices, double p)
    {
        using var scope = NewDisposeScope();
        var masks = new List<Tensor>(slices.Count);
        foreach (var slice in slices)
        {
            var shape = input.shape.ToArray();
            shape[0] = slice.Rows;
            masks.Add(Mask(shape, input.dtype, p, slice.Generator));
        }
        var mask = masks.Count == 1 ? masks[0] : cat(masks, 0);
        if (input.device.type != DeviceType.CPU) mask = mask.to(input.device);
        return mask.MoveToOuterDisposeScope();
    }

    /// <summary>Points every <see cref="GeneratorDropout"/> in <paramref name="model"/> at <paramref name="generator"/> (null to detach).</summary>
    public static void Use(nn.Module model, Generator? generator)
    {
        foreach (var dropout in model.modules().OfType<GeneratorDropout>()) dropout.Generator = generator;
    }
}

/// <summary>One trial's rows of a packed batch and the generator its dropout masks come from.</summary>
public sealed record DropoutSlice(long Rows, Generator Generator);
