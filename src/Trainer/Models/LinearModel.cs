using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Models;

/// <summary>
/// One bare Linear layer held at the path `linear`, for parameter arithmetic such as
/// `lora params --model linear:512x512`. Has a bias, as torch.nn.Linear does by default.
/// </summary>
public sealed class LinearModel : nn.Module<Tensor, Tensor>
{
    public const string ModulePath = "linear";
    public const string NamePrefix = "linear:";

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

    /// <summary>Parses `linear:INxOUT` (e.g. `linear:512x512`); null when the name is not of that form.</summary>
    public static (long In, long Out)? ParseName(string model)
    {
        if (!model.StartsWith(NamePrefix, StringComparison.OrdinalIgnoreCase)) return null;
        var dims = model[NamePrefix.Length..].Split('x', 'X');
        return dims.Length == 2 && long.TryParse(dims[0], out var inFeatures) && long.TryParse(dims[1], out var outFeatures)
               && inFeatures > 0 && outFeatures > 0
            ? (inFeatures, outFeatures)
            : null;
    }
}
