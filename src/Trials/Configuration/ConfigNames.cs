using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Trials.Configuration;

/// <summary>
/// The spellings of one closed set of <see cref="TrainingConfig"/> (adapter, bias, schedule, ...), read from the
/// <see cref="JsonStringEnumMemberNameAttribute"/> of its members: the one table that JSON, sweep validation
/// (<see cref="TrainingOption.Allowed"/>) and messages share. Matching is exact (ordinal): `LoRA` is not `lora`.
/// </summary>
public static class ConfigNames<T> where T : struct, Enum
{
    private static readonly (T Value, string Name)[] Entries = typeof(T).GetFields(BindingFlags.Public | BindingFlags.Static)
        .OrderBy(f => f.MetadataToken)
        .Select(f => ((T)f.GetValue(null)!, f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name
            ?? throw new InvalidOperationException($"{typeof(T).Name}.{f.Name} has no [JsonStringEnumMemberName]")))
        .ToArray();

    /// <summary>Every spelling, in declaration order (the order help and messages list them in).</summary>
    public static IReadOnlyList<string> All { get; } = Entries.Select(e => e.Name).ToArray();

    public static string Of(T value)
    {
        foreach (var (v, name) in Entries)
            if (EqualityComparer<T>.Default.Equals(v, value)) return name;
        throw new ArgumentOutOfRangeException(nameof(value), value, $"not a {typeof(T).Name}");
    }

    public static bool TryParse(string? text, out T value)
    {
        foreach (var (v, name) in Entries)
            if (string.Equals(name, text, StringComparison.Ordinal)) { value = v; return true; }
        value = default;
        return false;
    }
}

public static class ConfigNameExtensions
{
    /// <summary>The value as configs, sweep files and messages spell it (`lora_only`, not `LoraOnly`).</summary>
    public static string ConfigName<T>(this T value) where T : struct, Enum => ConfigNames<T>.Of(value);
}

/// <summary>Reads and writes a closed set by its <see cref="ConfigNames{T}"/> spellings only (no numbers, no other casing).</summary>
public sealed class ConfigEnumConverter<T> : JsonConverter<T> where T : struct, Enum
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && ConfigNames<T>.TryParse(reader.GetString(), out var value)
            ? value
            : throw new JsonException($"expected one of {string.Join(", ", ConfigNames<T>.All)} for {typeof(T).Name}");

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(ConfigNames<T>.Of(value));
}
