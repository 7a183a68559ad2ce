using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Orchestrator.Contracts.Trials;

public enum ParameterValueKind { Integer, Number, Flag, Text, List, Map }

/// <summary>
/// One typed trainer-option value as it crosses the grain boundary and reaches users: an integer, a number, a flag,
/// text, a list or a map. JSON writes it as the matching JSON value (numbers as numbers, lists as arrays), so
/// `--json` output carries types. <see cref="ToString"/> is the one display form (invariant culture, lists as
/// <c>[a,b]</c>), the same text trial ids are hashed from.
/// </summary>
[GenerateSerializer, Immutable, Alias("ParameterValue")]
[JsonConverter(typeof(ParameterValueJsonConverter))]
public sealed record ParameterValue
{
    [Id(0)] public ParameterValueKind Kind { get; init; }
    [Id(1)] public long Integer { get; init; }
    [Id(2)] public double Number { get; init; }
    [Id(3)] public bool Flag { get; init; }
    [Id(4)] public string? Text { get; init; }
    [Id(5)] public IReadOnlyList<ParameterValue>? Items { get; init; }
    [Id(6)] public IReadOnlyDictionary<string, ParameterValue>? Entries { get; init; }

    public static ParameterValue Of(long value) => new() { Kind = ParameterValueKind.Integer, Integer = value };
    public static ParameterValue Of(double value) => new() { Kind = ParameterValueKind.Number, Number = value };
    public static ParameterValue Of(bool value) => new() { Kind = ParameterValueKind.Flag, Flag = value };
    public static ParameterValue Of(string value) => new() { Kind = ParameterValueKind.Text, Text = value };
    public static ParameterValue List(IEnumerable<ParameterValue> items) => new() { Kind = ParameterValueKind.List, Items = [.. items] };

    public static ParameterValue Map(IEnumerable<KeyValuePair<string, ParameterValue>> entries) => new()
    {
        Kind = ParameterValueKind.Map,
        Entries = new SortedDictionary<string, ParameterValue>(entries.ToDictionary(), StringComparer.Ordinal),
    };

    /// <summary>The value as a number when it is one (integers included), for filters, plots and sorting.</summary>
    public double? AsNumber => Kind switch
    {
        ParameterValueKind.Integer => Integer,
        ParameterValueKind.Number => Number,
        _ => null,
    };

    /// <summary>A JSON value of any kind; JSON null is not a parameter value.</summary>
    public static ParameterValue FromJson(JsonNode node) => node switch
    {
        JsonArray array => List(array.Select(item => FromJson(item ?? throw new ArgumentException("a list item is null")))),
        JsonObject map => Map(map.Select(kv => KeyValuePair.Create(kv.Key, FromJson(kv.Value ?? throw new ArgumentException($"'{kv.Key}' is null"))))),
        JsonValue value => FromJsonValue(value),
        _ => throw new ArgumentException($"not a parameter value: {node.ToJsonString()}"),
    };

    public static ParameterValue FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number when element.TryGetInt64(out var l) => Of(l),
        JsonValueKind.Number => Of(element.GetDouble()),
        JsonValueKind.True => Of(true),
        JsonValueKind.False => Of(false),
        JsonValueKind.String => Of(element.GetString()!),
        JsonValueKind.Array => List(element.EnumerateArray().Select(FromJson)),
        JsonValueKind.Object => Map(element.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, FromJson(p.Value)))),
        _ => throw new ArgumentException($"not a parameter value: {element.GetRawText()}"),
    };

    public JsonNode ToJson() => Kind switch
    {
        ParameterValueKind.Integer => JsonValue.Create(Integer),
        ParameterValueKind.Number => JsonValue.Create(Number),
        ParameterValueKind.Flag => JsonValue.Create(Flag),
        ParameterValueKind.Text => JsonValue.Create(Text!),
        ParameterValueKind.List => new JsonArray([.. Items!.Select(i => i.ToJson())]),
        ParameterValueKind.Map => new JsonObject(Entries!.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value.ToJson()))),
        _ => throw new InvalidOperationException($"unknown kind {Kind}"),
    };

    /// <summary>The display form: <c>4</c>, <c>0.001</c>, <c>true</c>, <c>cosine</c>, <c>[q_proj,v_proj]</c>, <c>{q:8}</c>.</summary>
    public override string ToString() => Kind switch
    {
        ParameterValueKind.Integer => Integer.ToString(CultureInfo.InvariantCulture),
        ParameterValueKind.Number => Number.ToString("R", CultureInfo.InvariantCulture),
        ParameterValueKind.Flag => Flag ? "true" : "false",
        ParameterValueKind.Text => Text!,
        ParameterValueKind.List => "[" + string.Join(",", Items!) + "]",
        ParameterValueKind.Map => "{" + string.Join(",", Entries!.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + ":" + kv.Value)) + "}",
        _ => "",
    };

    /// <summary>
    /// Numbers are equal by value, whether integer or not (JSON writes 2.0 as 2, which reads back as an integer);
    /// everything else by kind and display form.
    /// </summary>
    public bool Equals(ParameterValue? other) =>
        other is not null && (AsNumber is { } a && other.AsNumber is { } b ? a.Equals(b) : Kind == other.Kind && ToString() == other.ToString());

    public override int GetHashCode() => AsNumber is { } n ? n.GetHashCode() : HashCode.Combine(Kind, ToString());

    private static ParameterValue FromJsonValue(JsonValue value) => value.GetValueKind() switch
    {
        JsonValueKind.Number when value.TryGetValue(out long l) => Of(l),
        JsonValueKind.Number when value.TryGetValue(out int i) => Of(i),
        JsonValueKind.Number => Of(value.GetValue<double>()),
        JsonValueKind.True => Of(true),
        JsonValueKind.False => Of(false),
        JsonValueKind.String => Of(value.GetValue<string>()),
        var other => throw new ArgumentException($"not a parameter value ({other}): {value.ToJsonString()}"),
    };
}

/// <summary>JSON: a <see cref="ParameterValue"/> is the plain JSON value it holds.</summary>
public sealed class ParameterValueJsonConverter : JsonConverter<ParameterValue>
{
    public override ParameterValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return ParameterValue.FromJson(document.RootElement);
    }

    public override void Write(Utf8JsonWriter writer, ParameterValue value, JsonSerializerOptions options) => value.ToJson().WriteTo(writer, options);
}
