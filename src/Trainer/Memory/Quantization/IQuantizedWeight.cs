using static TorchSharp.torch;

namespace Orchestrator.Trainer.Memory.Quantization;

/// <summary>A frozen weight held quantised; de-quantised only for the one product that needs it.</summary>
public interface IQuantizedWeight : IDisposable
{
    /// <summary>The weight's shape, [out, in] for a linear layer.</summary>
    long[] Shape { get; }

    /// <summary>Bytes the quantised form holds.</summary>
    long Bytes { get; }

    /// <summary>The full-precision weight in <paramref name="dtype"/>; the caller owns (and soon disposes) it.</summary>
    Tensor Dequantize(ScalarType dtype);
}
