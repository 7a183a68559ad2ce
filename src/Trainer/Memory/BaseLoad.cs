using Orchestrator.Trials.Configuration;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Memory;

/// <summary>
/// The form a frozen base takes as it loads: its linear and embedding weights in <see cref="BaseDtype"/>, its linear
/// weights (the output head excepted) quantised as <see cref="Quantize"/> says. A trial loads its base this way only
/// where every base weight stays frozen (the option rules refuse half and quantised bases with adapter full and with
/// trained biases), so the base ends up exactly as converting or quantising it after loading would leave it.
/// </summary>
public sealed record BaseLoad(BaseDtype? BaseDtype, QuantizeMode? Quantize, bool DoubleQuant = false)
{
    /// <summary>Every weight as the model's own fp32.</summary>
    public static BaseLoad Fp32 { get; } = new(null, null);

    /// <summary>The base as a trial's config holds it.</summary>
    public static BaseLoad Of(TrainingConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new BaseLoad(config.BaseDtype, config.Quantize, config.DoubleQuant);
    }

    /// <summary>The torch type linear and embedding weights take as they load.</summary>
    public ScalarType Dtype => BasePrecision.Of(BaseDtype);
}
