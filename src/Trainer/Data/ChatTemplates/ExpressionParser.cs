namespace Orchestrator.Trainer.Data.ChatTemplates;

/// <summary>
/// Jinja expressions by Jinja's precedence, loosest first: <c>a if b else c</c>; or; and; not; comparisons
/// (== != &lt; &gt; &lt;= &gt;= in, not in); + -; ~; * / // %; **; unary - +; then a primary (literal, name, list,
/// dict, parenthesised or tuple) with its postfixes (.attr, [index], [a:b:c], call) and filters / tests
/// (<c>|trim</c>, <c>is defined</c>), which bind tighter than any operator.
/// </summary>
internal static class ExpressionParser
{
    public static Expr ParseAll(TokenStream tokens)
    {
        var expr = ParseExpression(tokens);
        tokens.ExpectEnd();
        return expr;
    }

    public static Expr ParseTuple(TokenStream tokens)
    {
        var first = ParseExpression(tokens);
        if (tokens.Peek is not { Kind: TokenKind.Operator, Text: "," }) return first;
        var items = new List<Expr> { first };
        while (tokens.Accept(","))
        {
            if (tokens.Peek.Kind == TokenKind.End) break;
            items.Add(ParseExpression(tokens));
        }
        return new ListExpr(items);
    }

    public static Expr ParseExpression(TokenStream tokens)
    {
        var expr = ParseOr(tokens);
        if (!tokens.AcceptName("if")) return expr;
        var condition = ParseOr(tokens);
        Expr? otherwise = tokens.AcceptName("else") ? ParseExpression(tokens) : null;
        return new ConditionalExpr(expr, condition, otherwise);
    }

    public static Expr ParseNoConditional(TokenStream tokens) => ParseOr(tokens);

    private static Expr ParseOr(TokenStream tokens)
    {
        var left = ParseAnd(tokens);
        while (tokens.AcceptName("or")) left = new BinaryExpr("or", left, ParseAnd(tokens));
        return left;
    }

    private static Expr ParseAnd(TokenStream tokens)
    {
        var left = ParseNot(tokens);
        while (tokens.AcceptName("and")) left = new BinaryExpr("and", left, ParseNot(tokens));
        return left;
    }

    private static Expr ParseNot(TokenStream tokens) =>
        tokens.AcceptName("not") ? new UnaryExpr("not", ParseNot(tokens)) : ParseCompare(tokens);

    private static readonly HashSet<string> Comparisons = ["==", "!=", "<", ">", "<=", ">="];

    private static Expr ParseCompare(TokenStream tokens)
    {
        var first = ParseMath1(tokens);
        var rest = new List<(string, Expr)>();
        while (true)
        {
            if (tokens.Peek.Kind == TokenKind.Operator && Comparisons.Contains(tokens.Peek.Text))
                rest.Add((tokens.Next().Text, ParseMath1(tokens)));
            else if (tokens.AcceptName("in"))
                rest.Add(("in", ParseMath1(tokens)));
            else if (tokens.Peek is { Kind: TokenKind.Name, Text: "not" } && tokens.PeekAt(1) is { Kind: TokenKind.Name, Text: "in" })
            {
                tokens.Next();
                tokens.Next();
                rest.Add(("not in", ParseMath1(tokens)));
            }
            else break;
        }
        return rest.Count == 0 ? first : new CompareExpr(first, rest);
    }

    private static Expr ParseMath1(TokenStream tokens)
    {
        var left = ParseConcat(tokens);
        while (tokens.Peek is { Kind: TokenKind.Operator, Text: "+" or "-" })
            left = new BinaryExpr(tokens.Next().Text, left, ParseConcat(tokens));
        return left;
    }

    private static Expr ParseConcat(TokenStream tokens)
    {
        var left = ParseMath2(tokens);
        while (tokens.Accept("~")) left = new BinaryExpr("~", left, ParseMath2(tokens));
        return left;
    }

    private static Expr ParseMath2(TokenStream tokens)
    {
        var left = ParsePow(tokens);
        while (tokens.Peek is { Kind: TokenKind.Operator, Text: "*" or "/" or "//" or "%" })
            left = new BinaryExpr(tokens.Next().Text, left, ParsePow(tokens));
        return left;
    }

    private static Expr ParsePow(TokenStream tokens)
    {
        var left = ParseUnary(tokens);
        while (tokens.Accept("**")) left = new BinaryExpr("**", left, ParseUnary(tokens));
        return left;
    }

    private static Expr ParseUnary(TokenStream tokens)
    {
        if (tokens.Accept("-")) return ParseFilters(tokens, new UnaryExpr("-", ParseUnaryNoFilter(tokens)));
        if (tokens.Accept("+")) return ParseFilters(tokens, ParseUnaryNoFilter(tokens));
        return ParseFilters(tokens, ParsePostfix(tokens, ParsePrimary(tokens)));
    }

    private static Expr ParseUnaryNoFilter(TokenStream tokens)
    {
        if (tokens.Accept("-")) return new UnaryExpr("-", ParseUnaryNoFilter(tokens));
        if (tokens.Accept("+")) return ParseUnaryNoFilter(tokens);
        return ParsePostfix(tokens, ParsePrimary(tokens));
    }

    private static Expr ParsePrimary(TokenStream tokens)
    {
        var token = tokens.Peek;
        switch (token.Kind)
        {
            case TokenKind.Name:
                tokens.Next();
                return token.Text switch
                {
                    "true" or "True" => new LiteralExpr(true),
                    "false" or "False" => new LiteralExpr(false),
                    "none" or "None" => new LiteralExpr(null),
                    _ => new NameExpr(token.Text),
                };
            case TokenKind.String:
            {
                tokens.Next();
                var text = (string)token.Value!;
                while (tokens.Peek.Kind == TokenKind.String) text += (string)tokens.Next().Value!; // adjacent literals join
                return new LiteralExpr(text);
            }
            case TokenKind.Integer:
            case TokenKind.Float:
                tokens.Next();
                return new LiteralExpr(token.Value);
        }
        if (tokens.Accept("("))
        {
            if (tokens.Accept(")")) return new ListExpr([]);
            var inner = ParseExpression(tokens);
            if (tokens.Peek is { Kind: TokenKind.Operator, Text: "," })
            {
                var items = new List<Expr> { inner };
                while (tokens.Accept(",") && tokens.Peek is not { Kind: TokenKind.Operator, Text: ")" }) items.Add(ParseExpression(tokens));
                inner = new ListExpr(items);
            }
            tokens.Expect(")");
            return inner;
        }
        if (tokens.Accept("["))
        {
            var items = new List<Expr>();
            while (!tokens.Accept("]"))
            {
                if (items.Count > 0) tokens.Expect(",");
                if (tokens.Accept("]")) break;
                items.Add(ParseExpression(tokens));
            }
            return new ListExpr(items);
        }
        if (tokens.Accept("{"))
        {
            var items = new List<(Expr, Expr)>();
            while (!tokens.Accept("}"))
            {
                if (items.Count > 0) tokens.Expect(",");
                if (tokens.Accept("}")) break;
                var key = ParseExpression(tokens);
                tokens.Expect(":");
                items.Add((key, ParseExpression(tokens)));
            }
            return new DictExpr(items);
        }
        throw tokens.Error("expected a value");
    }

    private static Expr ParsePostfix(TokenStream tokens, Expr expr)
    {
        while (true)
        {
            if (tokens.Accept("."))
            {
                var name = tokens.Peek.Kind == TokenKind.Integer ? new LiteralExpr(tokens.Next().Value) : null;
                expr = name is not null ? new IndexExpr(expr, name) : new AttributeExpr(expr, tokens.ExpectName());
            }
            else if (tokens.Accept("["))
            {
                expr = ParseSubscript(tokens, expr);
            }
            else if (tokens.Peek is { Kind: TokenKind.Operator, Text: "(" })
            {
                var (args, kwargs) = ParseCallArguments(tokens);
                expr = new CallExpr(expr, args, kwargs);
            }
            else return expr;
        }
    }

    private static Expr ParseSubscript(TokenStream tokens, Expr target)
    {
        Expr? start = null, stop = null, step = null;
        if (tokens.Peek is not { Kind: TokenKind.Operator, Text: ":" }) start = ParseExpression(tokens);
        if (!tokens.Accept(":"))
        {
            tokens.Expect("]");
            return new IndexExpr(target, start!);
        }
        if (tokens.Peek is not { Kind: TokenKind.Operator, Text: "]" or ":" }) stop = ParseExpression(tokens);
        if (tokens.Accept(":") && tokens.Peek is not { Kind: TokenKind.Operator, Text: "]" }) step = ParseExpression(tokens);
        tokens.Expect("]");
        return new SliceExpr(target, start, stop, step);
    }

    private static (List<Expr> Args, List<(string, Expr)> Kwargs) ParseCallArguments(TokenStream tokens)
    {
        tokens.Expect("(");
        var args = new List<Expr>();
        var kwargs = new List<(string, Expr)>();
        while (!tokens.Accept(")"))
        {
            if (args.Count + kwargs.Count > 0) tokens.Expect(",");
            if (tokens.Accept(")")) break;
            if (tokens.Peek.Kind == TokenKind.Name && tokens.PeekAt(1) is { Kind: TokenKind.Operator, Text: "=" })
            {
                var name = tokens.Next().Text;
                tokens.Next();
                kwargs.Add((name, ParseExpression(tokens)));
            }
            else args.Add(ParseExpression(tokens));
        }
        return (args, kwargs);
    }

    private static readonly HashSet<string> NotATestArgument = ["and", "or", "else", "if", "is", "not", "in"];

    private static Expr ParseFilters(TokenStream tokens, Expr expr)
    {
        while (true)
        {
            if (tokens.Accept("|"))
            {
                var name = tokens.ExpectName();
                while (tokens.Accept(".")) name += "." + tokens.ExpectName();
                var (args, kwargs) = tokens.Peek is { Kind: TokenKind.Operator, Text: "(" } ? ParseCallArguments(tokens) : ([], []);
                expr = new FilterExpr(expr, name, args, kwargs);
            }
            else if (tokens.AcceptName("is"))
            {
                var negated = tokens.AcceptName("not");
                var name = tokens.ExpectName();
                List<Expr> args = [];
                if (tokens.Peek is { Kind: TokenKind.Operator, Text: "(" })
                {
                    var (a, kw) = ParseCallArguments(tokens);
                    if (kw.Count > 0) throw tokens.Error($"keyword arguments to the test '{name}'");
                    args = a;
                }
                else if (tokens.Peek.Kind is TokenKind.String or TokenKind.Integer or TokenKind.Float
                         || (tokens.Peek.Kind == TokenKind.Name && !NotATestArgument.Contains(tokens.Peek.Text)))
                {
                    args = [ParsePostfix(tokens, ParsePrimary(tokens))];
                }
                expr = new TestExpr(expr, name, args, negated);
            }
            else return expr;
        }
    }
}
