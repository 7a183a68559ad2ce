using System.Text.Json;
using System.Text.Json.Serialization;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Contracts.Trials;

/// <summary>What a trial trains: a LoRA adapter, every weight (full fine-tuning), or nothing (the frozen base, evaluated).</summary>
[GenerateSerializer, Alias("TrialKind")]
[JsonConverter(typeof(TrialKindJsonConverter))]
public enum TrialKind { Lora, Full, Base }

/// <summary>
/// The wire and display names of <see cref="TrialKind"/>: its config's <see cref="AdapterKind"/> words (`lora`, `full`,
/// `base`). TrialKind stays the wire type (Orleans alias, journals) because the trial model carries no Orleans attributes.
/// </summary>
public static class TrialKinds
{
    /// <summary>The adapter a trial of this kind trains.</summary>
    public static AdapterKind Adapter(this TrialKind kind) => kind switch
    {
        TrialKind.Lora => AdapterKind.Lora,
        TrialKind.Full => AdapterKind.Full,
        TrialKind.Base => AdapterKind.Base,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static string Name(this TrialKind kind) => kind.Adapter().ConfigName();

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
