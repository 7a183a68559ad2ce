using System.Text;
using static Orchestrator.Trainer.Data.ChatTemplates.TemplateValues;

namespace Orchestrator.Trainer.Data.ChatTemplates;

/// <summary>
/// Walks a parsed template with Jinja's scoping: a for loop's body is its own scope (a <c>set</c> inside it is gone
/// after the loop, which is why templates use namespace()), if blocks are not; lookups go from the innermost scope out
/// to the render's variables.
/// </summary>
internal sealed class TemplateRenderer
{
    private readonly List<Dictionary<string, object?>> _scopes;
    private readonly StringBuilder _output = new();

    private TemplateRenderer(IReadOnlyDictionary<string, object?> variables) =>
        _scopes = [new Dictionary<string, object?>(variables, StringComparer.Ordinal)];

    public static string Render(IReadOnlyList<Node> template, IReadOnlyDictionary<string, object?> variables)
    {
        var renderer = new TemplateRenderer(variables);
        renderer.Run(template);
        return renderer._output.ToString();
    }

    private enum Flow { Normal, Break, Continue }

    private Flow Run(IReadOnlyList<Node> nodes)
    {
        foreach (var node in nodes)
        {
            var flow = Execute(node);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    private Flow Execute(Node node)
    {
        switch (node)
        {
            case TextNode text:
                _output.Append(text.Text);
                return Flow.Normal;
            case OutputNode output:
                _output.Append(Str(Evaluate(output.Value, output.Line)));
                return Flow.Normal;
            case IfNode ifNode:
                foreach (var (condition, body) in ifNode.Branches)
                {
                    if (IsTrue(Evaluate(condition, ifNode.Line))) return Run(body);
                }
                return ifNode.Else is { } otherwise ? Run(otherwise) : Flow.Normal;
            case ForNode forNode:
                RunFor(forNode);
                return Flow.Normal;
            case SetNode set:
                RunSet(set);
                return Flow.Normal;
            case BreakNode: return Flow.Break;
            case ContinueNode: return Flow.Continue;
            case GenerationNode generation: return Run(generation.Body);
            default: throw new ChatTemplateException($"line {node.Line}: unexpected {node.GetType().Name}");
        }
    }

    private void RunFor(ForNode node)
    {
        var items = Iterate(Evaluate(node.Iterable, node.Line), node.Line).ToList();
        if (node.Filter is { } filter)
        {
            var kept = new List<object?>();
            foreach (var item in items)
            {
                _scopes.Add(new Dictionary<string, object?>(StringComparer.Ordinal));
                Bind(node.Targets, item, node.Line);
                if (IsTrue(Evaluate(filter, node.Line))) kept.Add(item);
                _scopes.RemoveAt(_scopes.Count - 1);
            }
            items = kept;
        }
        if (items.Count == 0)
        {
            if (node.Else is { } otherwise) Run(otherwise);
            return;
        }
        for (var i = 0; i < items.Count; i++)
        {
            var scope = new Dictionary<string, object?>(StringComparer.Ordinal) { ["loop"] = LoopInfo(items, i) };
            _scopes.Add(scope);
            try
            {
                Bind(node.Targets, items[i], node.Line);
                if (Run(node.Body) == Flow.Break) break;
            }
            finally
            {
                _scopes.RemoveAt(_scopes.Count - 1);
            }
        }
    }

    private static OrderedDictionary<string, object?> LoopInfo(List<object?> items, int i) => ToDict(
    [
        ("index", (long)(i + 1)), ("index0", (long)i), ("first", i == 0), ("last", i == items.Count - 1),
        ("length", (long)items.Count), ("revindex", (long)(items.Count - i)), ("revindex0", (long)(items.Count - i - 1)),
        ("previtem", i > 0 ? items[i - 1] : new Undefined("loop.previtem")),
        ("nextitem", i + 1 < items.Count ? items[i + 1] : new Undefined("loop.nextitem")),
    ]);

    private void Bind(IReadOnlyList<string> targets, object? value, int line)
    {
        var scope = _scopes[^1];
        if (targets.Count == 1)
        {
            scope[targets[0]] = value;
            return;
        }
        var parts = Iterate(value, line).ToList();
        if (parts.Count != targets.Count)
            throw new ChatTemplateException($"line {line}: cannot unpack {parts.Count} values into {targets.Count} names ({string.Join(", ", targets)})");
        for (var i = 0; i < targets.Count; i++) scope[targets[i]] = parts[i];
    }

    private void RunSet(SetNode set)
    {
        var value = Evaluate(set.Value, set.Line);
        if (set.Attribute is { } attribute)
        {
            if (Lookup(set.Targets[0]) is not Namespace ns)
                throw new ChatTemplateException($"line {set.Line}: 'set {set.Targets[0]}.{attribute}' needs {set.Targets[0]} to be a namespace()");
            ns.Attributes[attribute] = value;
            return;
        }
        Bind(set.Targets, value, set.Line);
    }

    private object? Lookup(string name)
    {
        for (var i = _scopes.Count - 1; i >= 0; i--)
        {
            if (_scopes[i].TryGetValue(name, out var value)) return value;
        }
        return name is "range" or "namespace" or "raise_exception" or "dict" ? new GlobalFunction(name) : new Undefined(name);
    }

    internal static IEnumerable<object?> Iterate(object? value, int line) => value switch
    {
        List<object?> list => list,
        OrderedDictionary<string, object?> dict => dict.Keys.Cast<object?>(),
        string s => s.Select(c => (object?)c.ToString()),
        Undefined => [],
        _ => throw new ChatTemplateException($"line {line}: a {TypeName(value)} is not iterable"),
    };

    private object? Evaluate(Expr expr, int line)
    {
        switch (expr)
        {
            case LiteralExpr literal: return literal.Value;
            case NameExpr name: return Lookup(name.Name);
            case ListExpr list: return list.Items.Select(i => Evaluate(i, line)).ToList();
            case DictExpr dict:
                return ToDict(dict.Items.Select(kv => (Evaluate(kv.Key, line) as string
                    ?? throw new ChatTemplateException($"line {line}: dict keys must be strings"), Evaluate(kv.Value, line))));
            case AttributeExpr attribute: return TemplateFunctions.GetAttribute(Evaluate(attribute.Target, line), attribute.Name, line);
            case IndexExpr index: return TemplateFunctions.GetItem(Evaluate(index.Target, line), Evaluate(index.Index, line), line);
            case SliceExpr slice:
                return TemplateFunctions.Slice(Evaluate(slice.Target, line), Optional(slice.Start, line), Optional(slice.Stop, line), Optional(slice.Step, line), line);
            case CallExpr call:
                return TemplateFunctions.Call(Evaluate(call.Callee, line), call.Args.Select(a => Evaluate(a, line)).ToList(),
                    call.Kwargs.ToDictionary(k => k.Name, k => Evaluate(k.Value, line)), line);
            case FilterExpr filter:
                return TemplateFunctions.Filter(filter.Name, Evaluate(filter.Target, line), filter.Args.Select(a => Evaluate(a, line)).ToList(),
                    filter.Kwargs.ToDictionary(k => k.Name, k => Evaluate(k.Value, line)), line);
            case TestExpr test:
            {
                var result = TemplateFunctions.Test(test.Name, Evaluate(test.Target, line), test.Args.Select(a => Evaluate(a, line)).ToList(), line);
                return test.Negated ? !result : result;
            }
            case UnaryExpr { Operator: "not" } not: return !IsTrue(Evaluate(not.Operand, line));
            case UnaryExpr negate:
                return Evaluate(negate.Operand, line) switch
                {
                    long l => (object?)(-l),
                    double d => (object?)(-d),
                    bool b => (object?)(-(b ? 1L : 0L)),
                    var other => throw new ChatTemplateException($"line {line}: bad operand type for unary -: {TypeName(other)}"),
                };
            case BinaryExpr { Operator: "and" } and:
            {
                var left = Evaluate(and.Left, line);
                return IsTrue(left) ? Evaluate(and.Right, line) : left;
            }
            case BinaryExpr { Operator: "or" } or:
            {
                var left = Evaluate(or.Left, line);
                return IsTrue(left) ? left : Evaluate(or.Right, line);
            }
            case BinaryExpr binary: return TemplateFunctions.Arithmetic(binary.Operator, Evaluate(binary.Left, line), Evaluate(binary.Right, line), line);
            case CompareExpr compare:
            {
                var left = Evaluate(compare.First, line);
                foreach (var (op, operand) in compare.Rest)
                {
                    var right = Evaluate(operand, line);
                    if (!TemplateFunctions.CompareOp(op, left, right, line)) return false;
                    left = right;
                }
                return true;
            }
            case ConditionalExpr conditional:
                return IsTrue(Evaluate(conditional.Condition, line))
                    ? Evaluate(conditional.Then, line)
                    : conditional.Else is { } otherwise ? Evaluate(otherwise, line) : new Undefined("the else of a conditional");
            default: throw new ChatTemplateException($"line {line}: unexpected {expr.GetType().Name}");
        }
    }

    private object? Optional(Expr? expr, int line) => expr is null ? null : Evaluate(expr, line);
}
