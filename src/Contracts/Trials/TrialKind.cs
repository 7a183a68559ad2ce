using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Contracts.Trials;

/// <summary>What a trial trains: a LoRA adapter, every weight (full fine-tuning), or nothing (the frozen base, evaluated).</summary>
[GenerateSerializer, Alias("TrialKind")]
[JsonConverter(typeof(TrialKindJsonConverter))]
public enum TrialKind { Lora, Full, Base }

/// <summary>The wire and display names of <see cref="TrialKind"/>: `lora`, `full`, `base` (the trainer's `adapter` values).</summary>
public static class TrialKinds
{
    public static string Name(this TrialKind kind) => kind switch
    {
        TrialKind.Lora => "lora",
        TrialKind.Full => "full",
        TrialKind.Base => "base",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private static readonly TrialKind[] All = Enum.GetValues<TrialKind>(); // GetValues allocates: expansion parses a kind per trial

    public static IReadOnlyList<string> Names { get; } = [.. All.Select(Name)];

    public static bool TryParse(string? name, out TrialKind kind)
    {
        foreach (var k in All)
        {
            if (string.Equals(k.Name(), name, StringComparison.OrdinalIgnoreCase))
            {
                kind = k;
                return true;
            }
        }

        kind = default;
        return false;
    }

    public static TrialKind Parse(string name) => TryParse(name, out var kind)
        ? kind
        : throw new FormatException($"unknown trial kind '{name}'; allowed: {string.Join(", ", Names)}");
}

/// <summary>Writes and reads <see cref="TrialKind"/> as its lower-case name.</summary>
public sealed class TrialKindJsonConverter : JsonConverter<TrialKind>
{
    public override TrialKind Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var name = reader.GetString();
        return TrialKinds.TryParse(name, out var kind) ? kind : throw new JsonException($"unknown trial kind '{name}'");
    }

    public override void Write(Utf8JsonWriter writer, TrialKind value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name());
}
