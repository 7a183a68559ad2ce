using System.Globalization;
using System.Text;

namespace Orchestrator.Trainer.Data.ChatTemplates;

/// <summary>Jinja's Undefined: what a missing name, key or attribute gives; renders as "" and is false.</summary>
internal sealed class Undefined(string name)
{
    public string Name { get; } = name;
    public override string ToString() => "";
}

/// <summary>Jinja's namespace(): the one object whose attributes a loop body may set.</summary>
internal sealed class Namespace
{
    public OrderedDictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}

/// <summary>A method of a value (<c>text.strip</c>, <c>d.items</c>) waiting for its call.</summary>
internal sealed record BoundMethod(object Target, string Name);

/// <summary>A global function (range, namespace, raise_exception).</summary>
internal sealed record GlobalFunction(string Name);

/// <summary>
/// Template values follow Python, as Jinja's do: None (null), bool, long, double, string, lists
/// (<see cref="List{T}"/> of object?), dicts (<see cref="OrderedDictionary{TKey, TValue}"/>, insertion-ordered) and
/// <see cref="Undefined"/>; truth, str(), repr(), == and ordering are Python's.
/// </summary>
internal static class TemplateValues
{
    public static bool IsTrue(object? value) => value switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> list => list.Count > 0,
        OrderedDictionary<string, object?> dict => dict.Count > 0,
        _ => true,
    };

    /// <summary>Python's str(): what <c>{{ value }}</c> and <c>~</c> write.</summary>
    public static string Str(object? value) => value switch
    {
        string s => s,
        Undefined => "",
        _ => Repr(value),
    };

    public static string Repr(object? value) => value switch
    {
        null => "None",
        Undefined => "",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FloatRepr(d),
        string s => StringRepr(s),
        List<object?> list => "[" + string.Join(", ", list.Select(Repr)) + "]",
        OrderedDictionary<string, object?> dict => "{" + string.Join(", ", dict.Select(kv => StringRepr(kv.Key) + ": " + Repr(kv.Value))) + "}",
        Namespace => "<Namespace>",
        _ => value.ToString() ?? "",
    };

    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        var text = d.ToString("R", CultureInfo.InvariantCulture);
        if (text.Contains('E'))
        {
            // Python writes 1e-05 and 1e+16 where .NET writes 1E-05 and 1E+16.
            var parts = text.Split('E');
            var exponent = int.Parse(parts[1], CultureInfo.InvariantCulture);
            return parts[0] + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
        }
        return text.Contains('.') ? text : text + ".0";
    }

    private static string StringRepr(string s)
    {
        var quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var builder = new StringBuilder().Append(quote);
        foreach (var c in s)
        {
            switch (c)
            {
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (c == quote) builder.Append('\\').Append(c);
                    else if (c < 0x20 || c == 0x7f) builder.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else builder.Append(c);
                    break;
            }
        }
        return builder.Append(quote).ToString();
    }

    public static bool IsNumber(object? value) => value is long or double or bool;

    public static double ToDouble(object? value) => value switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new InvalidCastException(),
    };

    public new static bool Equals(object? a, object? b)
    {
        if (a is Undefined || b is Undefined) return a is Undefined && b is Undefined;
        if (a is null || b is null) return a is null && b is null;
        if (IsNumber(a) && IsNumber(b))
            return a is double || b is double ? ToDouble(a) == ToDouble(b) : ToLong(a) == ToLong(b);
        if (a is string sa && b is string sb) return string.Equals(sa, sb, StringComparison.Ordinal);
        if (a is List<object?> la && b is List<object?> lb) return la.Count == lb.Count && la.Zip(lb).All(p => Equals(p.First, p.Second));
        if (a is OrderedDictionary<string, object?> da && b is OrderedDictionary<string, object?> db)
            return da.Count == db.Count && da.All(kv => db.TryGetValue(kv.Key, out var other) && Equals(kv.Value, other));
        return ReferenceEquals(a, b);
    }

    public static long ToLong(object? value) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d => (long)d,
        _ => throw new InvalidCastException(),
    };

    /// <summary>Python's ordering of numbers with numbers and strings with strings; anything else is a TypeError.</summary>
    public static int Compare(object? a, object? b, string op)
    {
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a).CompareTo(ToDouble(b));
        if (a is string sa && b is string sb) return string.CompareOrdinal(sa, sb);
        throw new ChatTemplateException($"'{op}' is not supported between {TypeName(a)} and {TypeName(b)}");
    }

    public static string TypeName(object? value) => value switch
    {
        null => "None",
        Undefined u => $"undefined '{u.Name}'",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        OrderedDictionary<string, object?> => "dict",
        _ => value.GetType().Name,
    };

    /// <summary>Python's json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=sortKeys), as transformers' tojson filter.</summary>
    public static string ToJson(object? value, int? indent, bool sortKeys)
    {
        var builder = new StringBuilder();
        WriteJson(builder, value, indent, sortKeys, 0);
        return builder.ToString();
    }

    private static void WriteJson(StringBuilder builder, object? value, int? indent, bool sortKeys, int depth)
    {
        string Newline(int level) => indent is { } n ? "\n" + new string(' ', n * level) : "";
        var itemSeparator = indent is null ? ", " : ",";
        switch (value)
        {
            case null: builder.Append("null"); break;
            case bool b: builder.Append(b ? "true" : "false"); break;
            case long l: builder.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d:
                builder.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : FloatRepr(d));
                break;
            case string s: WriteJsonString(builder, s); break;
            case List<object?> list:
                if (list.Count == 0) { builder.Append("[]"); break; }
                builder.Append('[');
                for (var i = 0; i < list.Count; i++)
                {
                    if (i > 0) builder.Append(itemSeparator);
                    builder.Append(Newline(depth + 1));
                    WriteJson(builder, list[i], indent, sortKeys, depth + 1);
                }
                builder.Append(Newline(depth)).Append(']');
                break;
            case OrderedDictionary<string, object?> dict:
            {
                if (dict.Count == 0) { builder.Append("{}"); break; }
                builder.Append('{');
                var entries = sortKeys ? dict.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList() : dict.ToList();
                for (var i = 0; i < entries.Count; i++)
                {
                    if (i > 0) builder.Append(itemSeparator);
                    builder.Append(Newline(depth + 1));
                    WriteJsonString(builder, entries[i].Key);
                    builder.Append(": ");
                    WriteJson(builder, entries[i].Value, indent, sortKeys, depth + 1);
                }
                builder.Append(Newline(depth)).Append('}');
                break;
            }
            case Undefined u: throw new ChatTemplateException($"tojson of undefined '{u.Name}': Object of type Undefined is not JSON serializable");
            default: throw new ChatTemplateException($"tojson: a {TypeName(value)} is not JSON serializable");
        }
    }

    private static void WriteJsonString(StringBuilder builder, string s)
    {
        builder.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                default:
                    if (c < 0x20) builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else builder.Append(c);
                    break;
            }
        }
        builder.Append('"');
    }

    /// <summary>A JSON element (a dataset row's message) as a template value.</summary>
    public static object? FromJson(System.Text.Json.JsonElement element) => element.ValueKind switch
    {
        System.Text.Json.JsonValueKind.String => element.GetString(),
        System.Text.Json.JsonValueKind.Number => element.TryGetInt64(out var l) ? l : element.GetDouble(),
        System.Text.Json.JsonValueKind.True => true,
        System.Text.Json.JsonValueKind.False => false,
        System.Text.Json.JsonValueKind.Array => element.EnumerateArray().Select(FromJson).ToList(),
        System.Text.Json.JsonValueKind.Object => ToDict(element.EnumerateObject().Select(p => (p.Name, FromJson(p.Value)))),
        _ => null,
    };

    public static OrderedDictionary<string, object?> ToDict(IEnumerable<(string Key, object? Value)> entries)
    {
        var dict = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in entries) dict[key] = value;
        return dict;
    }
}
