using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Orchestrator.Sweeps;

/// <summary>
/// A minimal YAML tree read straight from YamlDotNet's event parser, so every node keeps its position and the
/// abuse limits (aliases, node count, nesting depth, string length) are enforced while reading, before anything
/// is expanded.
/// </summary>
internal abstract class YNode(int line, int column)
{
    public int Line { get; } = Math.Max(1, line);
    public int Column { get; } = Math.Max(1, column);
}

internal sealed class YScalar(int line, int column, string value, bool plain) : YNode(line, column)
{
    public string Value { get; } = value;
    /// <summary>Plain (unquoted) scalars may be numbers, booleans or null; quoted ones are always strings.</summary>
    public bool Plain { get; } = plain;
    public bool IsNull => Plain && Value is "" or "~" or "null" or "Null" or "NULL";
}

internal sealed class YSequence(int line, int column) : YNode(line, column)
{
    public List<YNode> Items { get; } = [];
}

internal sealed class YMapping(int line, int column) : YNode(line, column)
{
    public List<(YNode Key, YNode Value)> Entries { get; } = [];
}

internal static class YamlTree
{
    public const int MaxNodes = 100_000;
    public const int MaxDepth = 64;

    /// <summary>Reads one document. Returns null (with problems added) when the text is not usable YAML.</summary>
    public static YNode? Read(string text, Action<int, int, string> problem)
    {
        try
        {
            return ReadCore(text, problem);
        }
        catch (YamlException e)
        {
            problem((int)e.Start.Line, (int)e.Start.Column, "YAML syntax error: " + StripPosition(e.Message));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's parser gives up this way when the text ends inside an open flow collection.
            problem(Math.Max(1, text.Split('\n').Length), 1, "YAML syntax error: the file ended unexpectedly (an unclosed bracket, brace or quote?)");
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            problem(1, 1, "could not read the file as YAML: " + e.Message);
            return null;
        }
    }

    private static YNode? ReadCore(string text, Action<int, int, string> problem)
    {
        var parser = new Parser(new StringReader(text));
        var stack = new Stack<(YNode Node, List<YNode> Children)>();
        YNode? root = null;
        int documents = 0, nodes = 0;
        while (parser.MoveNext())
        {
            var ev = parser.Current!;
            int line = (int)ev.Start.Line, col = (int)ev.Start.Column;
            switch (ev)
            {
                case DocumentStart:
                    documents++;
                    if (documents > 1)
                    {
                        problem(line, col, "a sweep file holds one YAML document; found a second one here");
                        return null;
                    }
                    break;
                case AnchorAlias alias:
                    problem(line, col, $"YAML aliases (*{alias.Value}) are not allowed in sweep files; write the value out");
                    return null;
                case Scalar s:
                    if (!CheckNode(s, ++nodes, stack.Count, line, col, problem)) return null;
                    if (s.Value.Length > SweepFile.MaxStringLength)
                    {
                        problem(line, col, $"string of {s.Value.Length} characters is longer than the {SweepFile.MaxStringLength} allowed");
                        return null;
                    }
                    Attach(new YScalar(line, col, s.Value, s.Style == ScalarStyle.Plain && (s.Tag.IsEmpty || IsValueTag(s.Tag.Value))), stack, ref root);
                    break;
                case SequenceStart sq:
                    if (!CheckNode(sq, ++nodes, stack.Count, line, col, problem)) return null;
                    stack.Push((new YSequence(line, col), []));
                    break;
                case MappingStart mp:
                    if (!CheckNode(mp, ++nodes, stack.Count, line, col, problem)) return null;
                    stack.Push((new YMapping(line, col), []));
                    break;
                case SequenceEnd:
                {
                    var (node, children) = stack.Pop();
                    ((YSequence)node).Items.AddRange(children);
                    Attach(node, stack, ref root);
                    break;
                }
                case MappingEnd:
                {
                    var (node, children) = stack.Pop();
                    var map = (YMapping)node;
                    for (int i = 0; i + 1 < children.Count; i += 2) map.Entries.Add((children[i], children[i + 1]));
                    Attach(node, stack, ref root);
                    break;
                }
            }
        }
        return root;
    }

    private static bool CheckNode(NodeEvent ev, int nodes, int depth, int line, int col, Action<int, int, string> problem)
    {
        if (!ev.Tag.IsEmpty && ev.Tag.Value is not ("tag:yaml.org,2002:str" or "tag:yaml.org,2002:map" or "tag:yaml.org,2002:seq" or "!") && !IsValueTag(ev.Tag.Value))
        {
            problem(line, col, $"YAML tag '{Truncate(ev.Tag.Value)}' is not allowed in sweep files; only plain values, lists and mappings");
            return false;
        }
        if (nodes > MaxNodes)
        {
            problem(line, col, $"the file has more than {MaxNodes} YAML nodes; a sweep file is much smaller");
            return false;
        }
        if (depth >= MaxDepth)
        {
            problem(line, col, $"values nested more than {MaxDepth} levels deep are not allowed");
            return false;
        }
        return true;
    }

    /// <summary>Standard YAML tags of plain values (!!float 1e-4, !!int 8): read as the plain value they tag, as PyYAML (and so W&amp;B) does.</summary>
    private static bool IsValueTag(string tag) => tag is "tag:yaml.org,2002:float" or "tag:yaml.org,2002:int" or "tag:yaml.org,2002:bool" or "tag:yaml.org,2002:null";

    private static void Attach(YNode node, Stack<(YNode Node, List<YNode> Children)> stack, ref YNode? root)
    {
        if (stack.Count == 0) root = node;
        else stack.Peek().Children.Add(node);
    }

    /// <summary>YamlDotNet prefixes messages with "(Line: 1, Col: 2, Idx: 3) - (...): "; the problem carries the position already.</summary>
    private static string StripPosition(string message)
    {
        var i = message.LastIndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line:", StringComparison.Ordinal) && i >= 0 ? message[(i + 3)..] : message;
    }

    /// <summary>A user's text fit for a one-line message: at most <paramref name="max"/> characters, control characters escaped.</summary>
    internal static string Truncate(string s, int max = 40)
    {
        var shown = s.Length <= max ? s : s[..max] + "…";
        return shown.Any(char.IsControl)
            ? string.Concat(shown.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()))
            : shown;
    }
}
