using System.Globalization;
using static Orchestrator.Trainer.Data.ChatTemplates.TemplateValues;

namespace Orchestrator.Trainer.Data.ChatTemplates;

/// <summary>
/// What expressions do to values: attribute and item access, slices, the operators, the global functions (range,
/// namespace, raise_exception), the methods of strings and dicts, and the filters and tests chat templates use. A filter,
/// test or method outside these is refused by name rather than guessed.
/// </summary>
internal static class TemplateFunctions
{
    public static readonly IReadOnlyList<string> Filters =
    [
        "trim", "length", "count", "tojson", "upper", "lower", "title", "capitalize", "first", "last", "join", "default", "d",
        "string", "int", "float", "list", "items", "reverse", "replace", "select", "reject", "selectattr", "rejectattr", "map",
        "safe", "abs", "unique",
    ];

    public static readonly IReadOnlyList<string> Tests =
    [
        "defined", "undefined", "none", "string", "number", "integer", "float", "boolean", "true", "false", "mapping", "iterable",
        "sequence", "equalto", "eq", "==", "ne", "!=", "odd", "even", "divisibleby", "in", "lower", "upper",
    ];

    private static readonly HashSet<string> StringMethods = ["strip", "lstrip", "rstrip", "split", "startswith", "endswith", "upper", "lower", "title", "capitalize", "replace"];
    private static readonly HashSet<string> DictMethods = ["items", "keys", "values", "get"];

    public static object? GetAttribute(object? target, string name, int line)
    {
        switch (target)
        {
            case Undefined u: throw new ChatTemplateException($"line {line}: '{u.Name}' is undefined, so it has no attribute '{name}'");
            case OrderedDictionary<string, object?> dict:
                if (DictMethods.Contains(name)) return new BoundMethod(dict, name);
                return dict.TryGetValue(name, out var value) ? value : new Undefined(name);
            case Namespace ns: return ns.Attributes.TryGetValue(name, out var attribute) ? attribute : new Undefined(name);
            case string s when StringMethods.Contains(name): return new BoundMethod(s, name);
            default: return new Undefined(name);
        }
    }

    public static object? GetItem(object? target, object? key, int line)
    {
        switch (target)
        {
            case Undefined u: throw new ChatTemplateException($"line {line}: '{u.Name}' is undefined, so it has no item {Repr(key)}");
            case OrderedDictionary<string, object?> dict:
                return key is string k && dict.TryGetValue(k, out var value) ? value : new Undefined(Str(key));
            case Namespace ns: return key is string a && ns.Attributes.TryGetValue(a, out var attribute) ? attribute : new Undefined(Str(key));
            case List<object?> list when key is long or bool:
            {
                var i = ToLong(key);
                if (i < 0) i += list.Count;
                return i >= 0 && i < list.Count ? list[(int)i] : new Undefined($"[{key}]");
            }
            case string s when key is long or bool:
            {
                var i = ToLong(key);
                if (i < 0) i += s.Length;
                return i >= 0 && i < s.Length ? s[(int)i].ToString() : new Undefined($"[{key}]");
            }
            case List<object?> or string when key is string name: return GetAttribute(target, name, line);
            default: return new Undefined(Str(key));
        }
    }

    /// <summary>Python's slice of a list or string, negative and stepped included.</summary>
    public static object? Slice(object? target, object? start, object? stop, object? step, int line)
    {
        var length = target switch
        {
            List<object?> list => list.Count,
            string s => s.Length,
            _ => throw new ChatTemplateException($"line {line}: a {TypeName(target)} cannot be sliced"),
        };
        var stride = step is null ? 1 : ToLong(step);
        if (stride == 0) throw new ChatTemplateException($"line {line}: slice step cannot be zero");
        long Clamp(object? bound, long fallback)
        {
            if (bound is null) return fallback;
            var b = ToLong(bound);
            if (b < 0) b += length;
            return stride > 0 ? Math.Clamp(b, 0, length) : Math.Clamp(b, -1, length - 1);
        }
        var from = Clamp(start, stride > 0 ? 0 : length - 1);
        var to = Clamp(stop, stride > 0 ? length : -1);
        var indices = new List<int>();
        for (var i = from; stride > 0 ? i < to : i > to; i += stride) indices.Add((int)i);
        return target is string text
            ? string.Concat(indices.Select(i => text[i]))
            : indices.Select(i => ((List<object?>)target!)[i]).ToList();
    }

    public static object? Call(object? callee, List<object?> args, Dictionary<string, object?> kwargs, int line)
    {
        switch (callee)
        {
            case GlobalFunction { Name: "raise_exception" }:
                throw new ChatTemplateException(args.Count > 0 ? Str(args[0]) : "raise_exception", raisedByTemplate: true);
            case GlobalFunction { Name: "range" }:
            {
                var numbers = args.Select(ToLong).ToList();
                var (start, stop, step) = numbers.Count switch
                {
                    1 => (0L, numbers[0], 1L),
                    2 => (numbers[0], numbers[1], 1L),
                    3 => (numbers[0], numbers[1], numbers[2]),
                    _ => throw new ChatTemplateException($"line {line}: range takes 1 to 3 arguments"),
                };
                if (step == 0) throw new ChatTemplateException($"line {line}: range() step must not be zero");
                var result = new List<object?>();
                for (var i = start; step > 0 ? i < stop : i > stop; i += step) result.Add(i);
                return result;
            }
            case GlobalFunction { Name: "namespace" }:
            {
                var ns = new Namespace();
                foreach (var (key, value) in kwargs) ns.Attributes[key] = value;
                return ns;
            }
            case GlobalFunction { Name: "dict" }:
                return ToDict(kwargs.Select(kv => (kv.Key, kv.Value)));
            case BoundMethod method: return CallMethod(method, args, kwargs, line);
            case Undefined u: throw new ChatTemplateException($"line {line}: '{u.Name}' is undefined and cannot be called (this renderer knows range, namespace, raise_exception and dict)");
            default: throw new ChatTemplateException($"line {line}: a {TypeName(callee)} cannot be called");
        }
    }

    private static object? CallMethod(BoundMethod method, List<object?> args, Dictionary<string, object?> kwargs, int line)
    {
        object? Arg(int i) => i < args.Count ? args[i] : null;
        if (method.Target is OrderedDictionary<string, object?> dict)
        {
            return method.Name switch
            {
                "items" => dict.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList(),
                "keys" => dict.Keys.Cast<object?>().ToList(),
                "values" => dict.Values.ToList(),
                _ => Arg(0) is string key && dict.TryGetValue(key, out var value) ? value : Arg(1), // get
            };
        }
        var s = (string)method.Target;
        return method.Name switch
        {
            "strip" => Arg(0) is string chars ? s.Trim(chars.ToCharArray()) : s.Trim(),
            "lstrip" => Arg(0) is string chars ? s.TrimStart(chars.ToCharArray()) : s.TrimStart(),
            "rstrip" => Arg(0) is string chars ? s.TrimEnd(chars.ToCharArray()) : s.TrimEnd(),
            "split" => (Arg(0) is string separator
                ? s.Split(separator)
                : s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).Select(p => (object?)p).ToList(),
            "startswith" => s.StartsWith(Str(Arg(0)), StringComparison.Ordinal),
            "endswith" => s.EndsWith(Str(Arg(0)), StringComparison.Ordinal),
            "upper" => s.ToUpperInvariant(),
            "lower" => s.ToLowerInvariant(),
            "title" => Title(s),
            "capitalize" => Capitalize(s),
            "replace" => s.Replace(Str(Arg(0)), Str(Arg(1)), StringComparison.Ordinal),
            _ => throw new ChatTemplateException($"line {line}: the string method '{method.Name}' is not supported"),
        };
    }

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    private static string Title(string s)
    {
        var chars = s.ToCharArray();
        var previousIsLetter = false;
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = previousIsLetter ? char.ToLowerInvariant(chars[i]) : char.ToUpperInvariant(chars[i]);
            previousIsLetter = char.IsLetter(chars[i]);
        }
        return new string(chars);
    }

    public static object? Arithmetic(string op, object? left, object? right, int line)
    {
        if (op == "~") return Str(left) + Str(right);
        if (left is Undefined u1) throw new ChatTemplateException($"line {line}: '{u1.Name}' is undefined (in '{op}')");
        if (right is Undefined u2) throw new ChatTemplateException($"line {line}: '{u2.Name}' is undefined (in '{op}')");
        if (IsNumber(left) && IsNumber(right))
        {
            var integral = left is not double && right is not double;
            switch (op)
            {
                case "+": return integral ? (object?)(ToLong(left) + ToLong(right)) : (object?)(ToDouble(left) + ToDouble(right));
                case "-": return integral ? (object?)(ToLong(left) - ToLong(right)) : (object?)(ToDouble(left) - ToDouble(right));
                case "*": return integral ? (object?)(ToLong(left) * ToLong(right)) : (object?)(ToDouble(left) * ToDouble(right));
                case "/":
                    if (ToDouble(right) == 0) throw new ChatTemplateException($"line {line}: division by zero");
                    return ToDouble(left) / ToDouble(right);
                case "//":
                    if (ToDouble(right) == 0) throw new ChatTemplateException($"line {line}: integer division by zero");
                    return integral ? (object?)((long)Math.Floor((double)ToLong(left) / ToLong(right))) : (object?)(Math.Floor(ToDouble(left) / ToDouble(right)));
                case "%":
                    if (ToDouble(right) == 0) throw new ChatTemplateException($"line {line}: modulo by zero");
                    if (integral)
                    {
                        long a = ToLong(left), b = ToLong(right);
                        return ((a % b) + b) % b;
                    }
                    var x = ToDouble(left) % ToDouble(right);
                    return x != 0 && (x < 0) != (ToDouble(right) < 0) ? x + ToDouble(right) : x;
                case "**": return integral && ToLong(right) >= 0 ? (object?)(long)Math.Pow(ToLong(left), ToLong(right)) : (object?)Math.Pow(ToDouble(left), ToDouble(right));
            }
        }
        switch (op, left, right)
        {
            case ("+", string a, string b): return a + b;
            case ("+", List<object?> a, List<object?> b): return a.Concat(b).ToList();
            case ("*", string a, long n): return string.Concat(Enumerable.Repeat(a, (int)Math.Max(0, n)));
            case ("%", string, _): throw new ChatTemplateException($"line {line}: %-formatting of strings is not supported by this chat-template renderer");
        }
        throw new ChatTemplateException($"line {line}: unsupported operand types for {op}: {TypeName(left)} and {TypeName(right)}");
    }

    public static bool CompareOp(string op, object? left, object? right, int line) => op switch
    {
        "==" => TemplateValues.Equals(left, right),
        "!=" => !TemplateValues.Equals(left, right),
        "<" => Compare(left, right, op) < 0,
        ">" => Compare(left, right, op) > 0,
        "<=" => Compare(left, right, op) <= 0,
        ">=" => Compare(left, right, op) >= 0,
        "in" => Contains(right, left, line),
        "not in" => !Contains(right, left, line),
        _ => throw new ChatTemplateException($"line {line}: unknown comparison '{op}'"),
    };

    private static bool Contains(object? container, object? item, int line) => container switch
    {
        string s => item is string sub ? s.Contains(sub, StringComparison.Ordinal) : throw new ChatTemplateException($"line {line}: 'in <string>' requires a string, not {TypeName(item)}"),
        List<object?> list => list.Any(x => TemplateValues.Equals(x, item)),
        OrderedDictionary<string, object?> dict => item is string key && dict.ContainsKey(key),
        Undefined u => throw new ChatTemplateException($"line {line}: '{u.Name}' is undefined (in 'in')"),
        _ => throw new ChatTemplateException($"line {line}: a {TypeName(container)} is not a container for 'in'"),
    };

    public static object? Filter(string name, object? value, List<object?> args, Dictionary<string, object?> kwargs, int line)
    {
        object? Arg(int i, string keyword, object? fallback = null) =>
            i < args.Count ? args[i] : kwargs.TryGetValue(keyword, out var k) ? k : fallback;
        switch (name)
        {
            case "trim": return Arg(0, "chars") is string chars ? Str(value).Trim(chars.ToCharArray()) : Str(value).Trim();
            case "length" or "count":
                return value switch
                {
                    string s => (long)s.Length,
                    List<object?> list => (long)list.Count,
                    OrderedDictionary<string, object?> dict => (long)dict.Count,
                    Undefined => 0L,
                    _ => throw new ChatTemplateException($"line {line}: a {TypeName(value)} has no length"),
                };
            case "tojson":
            {
                var indent = Arg(1, "indent") is { } i and not null ? (int?)ToLong(i) : null;
                return ToJson(value, indent, IsTrue(Arg(3, "sort_keys", false)));
            }
            case "upper": return Str(value).ToUpperInvariant();
            case "lower": return Str(value).ToLowerInvariant();
            case "title": return Title(Str(value));
            case "capitalize": return Capitalize(Str(value));
            case "first": return RequireSequence(value, name, line).FirstOrDefault(new Undefined("first of an empty sequence"));
            case "last": return RequireSequence(value, name, line).LastOrDefault(new Undefined("last of an empty sequence"));
            case "join":
            {
                var attribute = Arg(1, "attribute") as string;
                var items = RequireSequence(value, name, line).Select(x => attribute is null ? x : GetItem(x, attribute, line));
                return string.Join(Str(Arg(0, "d", "")), items.Select(Str));
            }
            case "default" or "d":
            {
                var useDefault = value is Undefined || (IsTrue(Arg(1, "boolean", false)) && !IsTrue(value));
                return useDefault ? Arg(0, "default_value", "") : value;
            }
            case "string": return Str(value);
            case "int":
                return value switch
                {
                    long or bool => ToLong(value),
                    double d => (long)Math.Truncate(d),
                    string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
                    _ => Arg(0, "default", 0L),
                };
            case "float":
                return value switch
                {
                    long or bool or double => ToDouble(value),
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
                    _ => Arg(0, "default", 0.0),
                };
            case "list": return RequireSequence(value, name, line).ToList();
            case "items":
                return value switch
                {
                    OrderedDictionary<string, object?> dict => dict.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList(),
                    Undefined => new List<object?>(),
                    _ => throw new ChatTemplateException($"line {line}: the items filter needs a mapping, not a {TypeName(value)}"),
                };
            case "reverse":
                return value is string rs ? new string(rs.Reverse().ToArray()) : RequireSequence(value, name, line).Reverse().ToList();
            case "replace": return Str(value).Replace(Str(Arg(0, "old")), Str(Arg(1, "new")), StringComparison.Ordinal);
            case "select" or "reject":
            {
                var test = Arg(0, "test") as string;
                var testArgs = args.Skip(1).ToList();
                var keep = name == "select";
                return RequireSequence(value, name, line).Where(x => (test is null ? IsTrue(x) : Test(test, x, testArgs, line)) == keep).ToList();
            }
            case "selectattr" or "rejectattr":
            {
                var attribute = Str(Arg(0, "attribute"));
                var test = Arg(1, "test") as string;
                var testArgs = args.Skip(2).ToList();
                var keep = name == "selectattr";
                return RequireSequence(value, name, line)
                    .Where(x =>
                    {
                        var field = GetAttribute(x, attribute, line);
                        return (test is null ? IsTrue(field) : Test(test, field, testArgs, line)) == keep;
                    })
                    .ToList();
            }
            case "map":
            {
                if (kwargs.TryGetValue("attribute", out var attribute))
                {
                    var fallback = kwargs.TryGetValue("default", out var d) ? d : null;
                    return RequireSequence(value, name, line).Select(x =>
                    {
                        var field = GetAttribute(x, Str(attribute), line);
                        return field is Undefined && kwargs.ContainsKey("default") ? fallback : field;
                    }).ToList();
                }
                var filter = Str(Arg(0, "filter"));
                return RequireSequence(value, name, line).Select(x => Filter(filter, x, args.Skip(1).ToList(), [], line)).ToList();
            }
            case "safe": return value;
            case "abs": return value is long l ? (object?)Math.Abs(l) : (object?)Math.Abs(ToDouble(value));
            case "unique":
            {
                var unique = new List<object?>();
                foreach (var x in RequireSequence(value, name, line)) if (!unique.Any(u => TemplateValues.Equals(u, x))) unique.Add(x);
                return unique;
            }
        }
        throw new ChatTemplateException($"line {line}: the template uses the filter '{name}', which this chat-template renderer does not support (it supports {string.Join(", ", Filters)})");
    }

    private static IEnumerable<object?> RequireSequence(object? value, string filter, int line) => value switch
    {
        List<object?> or OrderedDictionary<string, object?> or string or Undefined => TemplateRenderer.Iterate(value, line),
        _ => throw new ChatTemplateException($"line {line}: the {filter} filter needs a sequence, not a {TypeName(value)}"),
    };

    public static bool Test(string name, object? value, List<object?> args, int line)
    {
        object? Arg(int i) => i < args.Count ? args[i] : throw new ChatTemplateException($"line {line}: the test '{name}' needs an argument");
        return name switch
        {
            "defined" => value is not Undefined,
            "undefined" => value is Undefined,
            "none" => value is null,
            "string" => value is string,
            "number" => value is long or double,
            "integer" => value is long,
            "float" => value is double,
            "boolean" => value is bool,
            "true" => value is true,
            "false" => value is false,
            "mapping" => value is OrderedDictionary<string, object?> or Namespace,
            "iterable" => value is List<object?> or OrderedDictionary<string, object?> or string or Undefined,
            "sequence" => value is List<object?> or OrderedDictionary<string, object?> or string,
            "equalto" or "eq" or "==" => TemplateValues.Equals(value, Arg(0)),
            "ne" or "!=" => !TemplateValues.Equals(value, Arg(0)),
            "odd" => ToLong(value) % 2 != 0,
            "even" => ToLong(value) % 2 == 0,
            "divisibleby" => ToLong(value) % ToLong(Arg(0)) == 0,
            "in" => CompareOp("in", value, Arg(0), line),
            "lower" => value is string l && l == l.ToLowerInvariant(),
            "upper" => value is string u && u == u.ToUpperInvariant(),
            _ => throw new ChatTemplateException($"line {line}: the template uses the test 'is {name}', which this chat-template renderer does not support (it supports {string.Join(", ", Tests)})"),
        };
    }
}
