namespace Orchestrator.Trainer.Data.ChatTemplates;

/// <summary>
/// Parses the subset of Jinja that chat templates use into a tree: text, <c>{{ expr }}</c>, if/elif/else, for (with
/// an <c>if</c> filter, tuple targets and else), set (names, tuples, namespace attributes), break/continue,
/// transformers' generation block, and expressions with Jinja's precedence. Any other statement (macro, call, filter,
/// include, import, extends, block, raw, with, set…endset) is refused by name.
/// </summary>
internal sealed class TemplateParser
{
    private readonly List<Segment> _segments;
    private int _index;

    private TemplateParser(List<Segment> segments) => _segments = segments;

    public static IReadOnlyList<Node> Parse(string source)
    {
        var parser = new TemplateParser(TemplateLexer.Split(source));
        var body = parser.ParseBody(out var end);
        if (end is not null) throw new ChatTemplateException($"line {end.Value.Line}: '{{% {end.Value.Keyword} %}}' has no block to close");
        return body;
    }

    private static readonly HashSet<string> Unsupported =
        ["macro", "call", "filter", "include", "import", "from", "extends", "block", "raw", "with", "autoescape", "do", "trans"];

    /// <summary>Nodes until a block keyword this level does not own (returned through <paramref name="end"/>) or the end.</summary>
    private List<Node> ParseBody(out (string Keyword, int Line, TokenStream Tokens)? end)
    {
        var nodes = new List<Node>();
        while (_index < _segments.Count)
        {
            var segment = _segments[_index++];
            switch (segment.Kind)
            {
                case SegmentKind.Text:
                    nodes.Add(new TextNode(segment.Content, segment.Line));
                    break;
                case SegmentKind.Output:
                {
                    var tokens = new TokenStream(TemplateLexer.Tokenize(segment.Content, segment.Line), segment.Line);
                    nodes.Add(new OutputNode(ExpressionParser.ParseAll(tokens), segment.Line));
                    break;
                }
                default:
                {
                    var tokens = new TokenStream(TemplateLexer.Tokenize(segment.Content, segment.Line), segment.Line);
                    var keyword = tokens.Peek.Kind == TokenKind.Name ? tokens.Peek.Text : tokens.Peek.Text;
                    if (keyword is "endif" or "elif" or "else" or "endfor" or "endgeneration" or "endset")
                    {
                        tokens.Next();
                        end = (keyword, segment.Line, tokens);
                        return nodes;
                    }
                    nodes.Add(ParseStatement(keyword, tokens, segment.Line));
                    break;
                }
            }
        }
        end = null;
        return nodes;
    }

    private Node ParseStatement(string keyword, TokenStream tokens, int line)
    {
        tokens.Next();
        switch (keyword)
        {
            case "if": return ParseIf(tokens, line);
            case "for": return ParseFor(tokens, line);
            case "set": return ParseSet(tokens, line);
            case "break": tokens.ExpectEnd(); return new BreakNode(line);
            case "continue": tokens.ExpectEnd(); return new ContinueNode(line);
            case "generation":
            {
                tokens.ExpectEnd();
                var body = ParseBody(out var end);
                Close(end, "endgeneration", "generation", line);
                return new GenerationNode(body, line);
            }
        }
        if (Unsupported.Contains(keyword))
            throw new ChatTemplateException($"line {line}: the template uses '{{% {keyword} %}}', which this chat-template renderer does not support (it renders if/elif/else, for, set, break/continue and generation blocks)");
        throw new ChatTemplateException($"line {line}: unknown statement '{{% {keyword} %}}' (this renderer supports if/elif/else, for, set, break/continue and generation blocks)");
    }

    private static void Close((string Keyword, int Line, TokenStream Tokens)? end, string expected, string opener, int line)
    {
        if (end is null) throw new ChatTemplateException($"line {line}: '{{% {opener} %}}' is never closed by '{{% {expected} %}}'");
        if (end.Value.Keyword != expected)
            throw new ChatTemplateException($"line {end.Value.Line}: found '{{% {end.Value.Keyword} %}}' where '{{% {expected} %}}' closes the '{{% {opener} %}}' of line {line}");
        end.Value.Tokens.ExpectEnd();
    }

    private Node ParseIf(TokenStream tokens, int line)
    {
        var branches = new List<(Expr, IReadOnlyList<Node>)>();
        var condition = ExpressionParser.ParseAll(tokens);
        while (true)
        {
            var body = ParseBody(out var end);
            branches.Add((condition, body));
            if (end is null) throw new ChatTemplateException($"line {line}: '{{% if %}}' is never closed by '{{% endif %}}'");
            switch (end.Value.Keyword)
            {
                case "elif":
                    condition = ExpressionParser.ParseAll(end.Value.Tokens);
                    continue;
                case "else":
                {
                    end.Value.Tokens.ExpectEnd();
                    var elseBody = ParseBody(out var elseEnd);
                    Close(elseEnd, "endif", "if", line);
                    return new IfNode(branches, elseBody, line);
                }
                default:
                    Close(end, "endif", "if", line);
                    return new IfNode(branches, null, line);
            }
        }
    }

    private Node ParseFor(TokenStream tokens, int line)
    {
        var targets = new List<string> { tokens.ExpectName() };
        while (tokens.Accept(",")) targets.Add(tokens.ExpectName());
        if (!tokens.AcceptName("in")) throw tokens.Error("expected 'in' after the loop variable");
        var iterable = ExpressionParser.ParseNoConditional(tokens);
        Expr? filter = null;
        if (tokens.AcceptName("if")) filter = ExpressionParser.ParseNoConditional(tokens);
        if (tokens.AcceptName("recursive")) throw new ChatTemplateException($"line {line}: the template uses a recursive for loop, which this chat-template renderer does not support");
        tokens.ExpectEnd();
        var body = ParseBody(out var end);
        if (end is { Keyword: "else" })
        {
            end.Value.Tokens.ExpectEnd();
            var elseBody = ParseBody(out var elseEnd);
            Close(elseEnd, "endfor", "for", line);
            return new ForNode(targets, iterable, filter, body, elseBody, line);
        }
        Close(end, "endfor", "for", line);
        return new ForNode(targets, iterable, filter, body, null, line);
    }

    private static Node ParseSet(TokenStream tokens, int line)
    {
        var targets = new List<string> { tokens.ExpectName() };
        string? attribute = null;
        if (tokens.Accept(".")) attribute = tokens.ExpectName();
        else while (tokens.Accept(",")) targets.Add(tokens.ExpectName());
        if (tokens.Peek.Kind == TokenKind.End)
            throw new ChatTemplateException($"line {line}: the template uses a block set ('{{% set {targets[0]} %}}…{{% endset %}}'), which this chat-template renderer does not support");
        if (!tokens.Accept("=")) throw tokens.Error("expected '=' in set");
        var value = ExpressionParser.ParseTuple(tokens);
        tokens.ExpectEnd();
        return new SetNode(targets, attribute, value, line);
    }
}

/// <summary>The tokens of one tag, read left to right.</summary>
internal sealed class TokenStream(List<Token> tokens, int line)
{
    private int _position;

    public int Line { get; } = line;
    public Token Peek => tokens[_position];
    public Token PeekAt(int offset) => tokens[Math.Min(_position + offset, tokens.Count - 1)];
    public Token Next() => tokens[_position < tokens.Count - 1 ? _position++ : _position];

    public bool Accept(string op)
    {
        if (Peek.Kind != TokenKind.Operator || Peek.Text != op) return false;
        _position++;
        return true;
    }

    public bool AcceptName(string name)
    {
        if (Peek.Kind != TokenKind.Name || Peek.Text != name) return false;
        _position++;
        return true;
    }

    public void Expect(string op)
    {
        if (!Accept(op)) throw Error($"expected '{op}'");
    }

    public string ExpectName() => Peek.Kind == TokenKind.Name ? Next().Text : throw Error("expected a name");

    public void ExpectEnd()
    {
        if (Peek.Kind != TokenKind.End) throw Error("unexpected text at the end of the tag");
    }

    public ChatTemplateException Error(string what) =>
        new($"line {Line}: {what}, found '{(Peek.Kind == TokenKind.End ? "the end of the tag" : Peek.Text)}' in '{string.Join(" ", tokens.Select(t => t.Text))}'");
}
