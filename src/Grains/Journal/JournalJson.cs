using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Grains.Journal;

/// <summary>The one JSON shape of journal records (compact, camelCase, stable across versions: unknown fields ignored).</summary>
public static class JournalJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);
    public static T Deserialize<T>(string json) => JsonSerializer.Deserialize<T>(json, Options)!;
}
