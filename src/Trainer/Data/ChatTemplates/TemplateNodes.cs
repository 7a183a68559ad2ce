namespace Orchestrator.Trainer.Data.ChatTemplates;

// The syntax tree of a parsed template: statements (Node) and expressions (Expr).

internal abstract record Node(int Line);
internal sealed record TextNode(string Text, int Line) : Node(Line);
internal sealed record OutputNode(Expr Value, int Line) : Node(Line);
internal sealed record IfNode(IReadOnlyList<(Expr Condition, IReadOnlyList<Node> Body)> Branches, IReadOnlyList<Node>? Else, int Line) : Node(Line);
internal sealed record ForNode(IReadOnlyList<string> Targets, Expr Iterable, Expr? Filter, IReadOnlyList<Node> Body, IReadOnlyList<Node>? Else, int Line) : Node(Line);
/// <summary><c>{% set name = value %}</c>, <c>{% set a, b = value %}</c> or <c>{% set ns.attr = value %}</c> (Attribute set).</summary>
internal sealed record SetNode(IReadOnlyList<string> Targets, string? Attribute, Expr Value, int Line) : Node(Line);
internal sealed record BreakNode(int Line) : Node(Line);
internal sealed record ContinueNode(int Line) : Node(Line);
/// <summary>transformers' <c>{% generation %}</c> block: renders its body (it marks assistant text for return_assistant_tokens_mask).</summary>
internal sealed record GenerationNode(IReadOnlyList<Node> Body, int Line) : Node(Line);

internal abstract record Expr;
internal sealed record LiteralExpr(object? Value) : Expr;
internal sealed record NameExpr(string Name) : Expr;
internal sealed record ListExpr(IReadOnlyList<Expr> Items) : Expr;
internal sealed record DictExpr(IReadOnlyList<(Expr Key, Expr Value)> Items) : Expr;
internal sealed record AttributeExpr(Expr Target, string Name) : Expr;
internal sealed record IndexExpr(Expr Target, Expr Index) : Expr;
internal sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step) : Expr;
internal sealed record CallExpr(Expr Callee, IReadOnlyList<Expr> Args, IReadOnlyList<(string Name, Expr Value)> Kwargs) : Expr;
internal sealed record FilterExpr(Expr Target, string Name, IReadOnlyList<Expr> Args, IReadOnlyList<(string Name, Expr Value)> Kwargs) : Expr;
internal sealed record TestExpr(Expr Target, string Name, IReadOnlyList<Expr> Args, bool Negated) : Expr;
internal sealed record UnaryExpr(string Operator, Expr Operand) : Expr;
internal sealed record BinaryExpr(string Operator, Expr Left, Expr Right) : Expr;
internal sealed record CompareExpr(Expr First, IReadOnlyList<(string Operator, Expr Operand)> Rest) : Expr;
internal sealed record ConditionalExpr(Expr Then, Expr Condition, Expr? Else) : Expr;
