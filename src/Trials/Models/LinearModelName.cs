namespace Orchestrator.Trials.Models;

/// <summary>`linear:INxOUT`: one bare Linear layer at the path `linear`, for parameter arithmetic (`lora params --model linear:512x512`).</summary>
public static class LinearModelName
{
    public const string ModulePath = "linear";
    public const string Prefix = "linear:";

    /// <summary>Parses `linear:INxOUT` (e.g. `linear:512x512`); null when the name is not of that form.</summary>
    public static (long In, long Out)? Parse(string model)
    {
        if (!model.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)) return null;
        var dims = model[Prefix.Length..].Split('x', 'X');
        return dims.Length == 2 && long.TryParse(dims[0], out var inFeatures) && long.TryParse(dims[1], out var outFeatures)
               && inFeatures > 0 && outFeatures > 0
            ? (inFeatures, outFeatures)
            : null;
    }
}
