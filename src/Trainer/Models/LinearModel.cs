using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Models;

/// <summary>
/// One bare Linear layer held at the path `linear`, for parameter arithmetic such as
/// `lora params --model linear:512x512`. Has a bias, as torch.nn.Linear does by default.
/// </summary>
public sealed class LinearModel : nn.Module<Tensor, Tensor>
{
    public const string ModulePath = LinearModelName.ModulePath;

#pragma warning disable IDE1006
    private nn.Module<Tensor, Tensor> linear;
#pragma warning restore IDE1006

    public LinearModel(long inFeatures, long outFeatures, long seed, bool hasBias = true) : base(nameof(LinearModel))
    {
        using var generator = LinearInit.Generator(seed);
        linear = LinearInit.Create(inFeatures, outFeatures, hasBias, generator);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => linear.forward(input);
}
