namespace Orchestrator.Sweeps;

/// <summary>How a sweep's LoRA trials are packed: never, as many as the slot's memory allows, or at most a fixed number.</summary>
public enum PackMode { Off, Auto, Fixed }

/// <summary>
/// The sweep file's `pack: auto | off | K`: how many compatible LoRA trials one worker slot may train together through one
/// frozen base (see Orchestrator.Trainer.Packing). Full fine-tuning and base trials never pack.
/// </summary>
public sealed record PackSetting(PackMode Mode, int Size)
{
    /// <summary>The largest pack a sweep may ask for, and the most `auto` forms.</summary>
    public const int MaxSize = 16;

    public static readonly PackSetting Off = new(PackMode.Off, 1);
    public static readonly PackSetting Auto = new(PackMode.Auto, MaxSize);
    public static PackSetting Fixed(int size) => new(PackMode.Fixed, size);

    /// <summary>The setting <see cref="ToString"/> wrote (null: off).</summary>
    /// <exception cref="FormatException">Not a value <see cref="ToString"/> writes.</exception>
    public static PackSetting Parse(string? text) => text switch
    {
        null or "off" => Off,
        "auto" => Auto,
        _ when int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var k) && k is >= 1 and <= MaxSize
            => k == 1 ? Off : Fixed(k),
        _ => throw new FormatException($"pack '{text}' is not auto, off or a pack size from 1 to {MaxSize}"),
    };

    /// <summary>As the sweep file writes it.</summary>
    public override string ToString() => Mode switch { PackMode.Off => "off", PackMode.Auto => "auto", _ => Size.ToString(System.Globalization.CultureInfo.InvariantCulture) };
}
