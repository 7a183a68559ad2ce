using System.Globalization;

namespace Orchestrator.Client.Commands.Local;

/// <summary>Reading option values the local verbs share.</summary>
internal static class LocalOptions
{
    /// <summary>--modules-to-save of the counting verbs (`lora params`, `estimate --model`): the option `train` and sweeps read as modules_to_save.</summary>
    public static System.CommandLine.Option<string?> ModulesToSave() => new("--modules-to-save")
    {
        Description = "Decoders: comma-separated modules that train in full beside the adapter (PEFT's modules_to_save, e.g. norm), counted as trainable.",
    };

    /// <summary>"q_proj, v_proj" or "[q_proj,v_proj]" → [q_proj, v_proj]; null or empty → [].</summary>
    public static IReadOnlyList<string> SplitList(string? text) =>
        string.IsNullOrWhiteSpace(text)
            ? []
            : text.Trim().TrimStart('[').TrimEnd(']').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// GPU memory as "80GB", "80G", "24 GiB", "512MB" or a bare number of GB, in bytes. GB is read as GiB: an
    /// "80 GB" accelerator has 80 GiB.
    /// </summary>
    public static long ParseMemory(string text, string option)
    {
        var trimmed = text.Trim().ToUpperInvariant().Replace(" ", "", StringComparison.Ordinal);
        (string Suffix, long Factor)[] units = [("TIB", 1L << 40), ("TB", 1L << 40), ("T", 1L << 40), ("GIB", 1L << 30), ("GB", 1L << 30), ("G", 1L << 30), ("MIB", 1L << 20), ("MB", 1L << 20), ("M", 1L << 20)];
        var factor = 1L << 30;
        foreach (var (suffix, f) in units)
        {
            if (!trimmed.EndsWith(suffix, StringComparison.Ordinal)) continue;
            trimmed = trimmed[..^suffix.Length];
            factor = f;
            break;
        }
        if (!double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value > 0) || double.IsInfinity(value))
            throw new UserInputException($"{option} '{text}' is not a memory size; write it like 80GB, 24GiB or 512MB.");
        return (long)(value * factor);
    }
}
