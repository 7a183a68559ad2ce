using System.Globalization;
using System.Text;
using Orchestrator.Contracts.Trials;

namespace Orchestrator.Contracts.Leaderboards;

/// <summary>A <c>--where</c> expression that could not be read; the message names the bad token and what is allowed.</summary>
public sealed class FilterSyntaxException(string message) : Exception(message);

public enum FilterOperator { Equal, NotEqual, Less, LessOrEqual, Greater, GreaterOrEqual }

/// <summary>One <c>field OP value</c> comparison.</summary>
public sealed record FilterCondition(string Field, FilterOperator Operator, string Value)
{
    /// <summary>
    /// Compares numerically when both sides read as numbers, as text otherwise (equality ignores case). An entry that
    /// lacks the field does not match.
    /// </summary>
    public bool Matches(LeaderboardEntry entry)
    {
        var actual = LeaderboardFilter.Resolve(entry, Field);
        if (actual is null) return false;
        int comparison;
        if (LeaderboardFilter.TryNumber(actual, out var left) && LeaderboardFilter.TryNumber(Value, out var right))
            comparison = left.CompareTo(right);
        else if (Operator is FilterOperator.Equal or FilterOperator.NotEqual)
            comparison = string.Equals(Unbracket(actual), Unbracket(Value), StringComparison.OrdinalIgnoreCase) ? 0 : 1;
        else
            comparison = string.Compare(actual, Value, StringComparison.Ordinal);
        return Operator switch
        {
            FilterOperator.Equal => comparison == 0,
            FilterOperator.NotEqual => comparison != 0,
            FilterOperator.Less => comparison < 0,
            FilterOperator.LessOrEqual => comparison <= 0,
            FilterOperator.Greater => comparison > 0,
            _ => comparison >= 0,
        };
    }

    // "[q_proj, v_proj]" and "q_proj,v_proj" name the same list.
    private static string Unbracket(string value) => value.Trim().TrimStart('[').TrimEnd(']').Replace(" ", "", StringComparison.Ordinal);

    public override string ToString() => $"{Field}{LeaderboardFilter.Symbol(Operator)}{Value}";
}

/// <summary>
/// <c>--where</c> (and the dashboard's trial filter): comparisons joined by <c>and</c>, e.g. <c>rank&gt;=8 and kind=lora</c>. Fields are a trial's
/// parameters, its metrics, or <c>kind</c>, <c>trial</c>, <c>sweep</c>, <c>state</c>, <c>pruned</c>, <c>trainable</c>, <c>score</c>.
/// </summary>
public sealed class LeaderboardFilter
{
    public const string Allowed = "comparisons 'field OP value' joined by 'and', OP one of = != < <= > >= (e.g. \"rank>=8 and kind=lora\")";

    /// <summary>Fields every entry has, besides its parameters and metrics.</summary>
    public static readonly IReadOnlyList<string> BuiltInFields = ["kind", "trial", "sweep", "state", "pruned", "trainable", "peak_memory_bytes", "score"];

    private LeaderboardFilter(IReadOnlyList<FilterCondition> conditions) => Conditions = conditions;

    public IReadOnlyList<FilterCondition> Conditions { get; }

    public static LeaderboardFilter All { get; } = new([]);

    public bool Matches(LeaderboardEntry entry) => Conditions.All(c => c.Matches(entry));

    public override string ToString() => string.Join(" and ", Conditions);

    /// <summary>Reads a <c>--where</c> expression; empty or null means every entry.</summary>
    /// <exception cref="FilterSyntaxException">The expression is malformed.</exception>
    public static LeaderboardFilter Parse(string? expression)
    {
        if (string.IsNullOrWhiteSpace(expression)) return All;
        var tokens = Tokenize(expression);
        var conditions = new List<FilterCondition>();
        var i = 0;
        while (true)
        {
            var field = Take(tokens, ref i, TokenKind.Word, "a field name (a parameter, a metric, or " + string.Join(", ", BuiltInFields) + ")");
            if (IsKeyword(field.Text, out var keyword))
                throw new FilterSyntaxException($"bad filter \"{expression}\": expected a field name at '{field.Text}' (column {field.Column}), found the keyword '{keyword}'. Allowed: {Allowed}.");
            var op = Take(tokens, ref i, TokenKind.Operator, "a comparison operator (= != < <= > >=)");
            var value = Take(tokens, ref i, TokenKind.Word, "a value");
            conditions.Add(new FilterCondition(field.Text, ParseOperator(op.Text), value.Text));
            if (i == tokens.Count) break;
            var joiner = tokens[i];
            if (joiner.Kind == TokenKind.Word && joiner.Text.Equals("and", StringComparison.OrdinalIgnoreCase) || joiner.Text == "&&")
            {
                i++;
                if (i == tokens.Count)
                    throw new FilterSyntaxException($"bad filter \"{expression}\": 'and' at column {joiner.Column} is not followed by a comparison. Allowed: {Allowed}.");
                continue;
            }
            var hint = joiner.Text.Equals("or", StringComparison.OrdinalIgnoreCase) || joiner.Text == "||"
                ? "'or' is not supported; run the query twice"
                : "expected 'and'";
            throw new FilterSyntaxException($"bad filter \"{expression}\": unexpected '{joiner.Text}' at column {joiner.Column} ({hint}). Allowed: {Allowed}.");

            Token Take(List<Token> list, ref int index, TokenKind kind, string expected)
            {
                if (index >= list.Count)
                    throw new FilterSyntaxException($"bad filter \"{expression}\": it ends where {expected} should follow. Allowed: {Allowed}.");
                var token = list[index];
                if (token.Kind != kind)
                    throw new FilterSyntaxException($"bad filter \"{expression}\": expected {expected} at '{token.Text}' (column {token.Column}). Allowed: {Allowed}.");
                index++;
                return token;
            }
        }
        return new LeaderboardFilter(conditions);
    }

    /// <summary>
    /// Checks every field names something at least one entry has, so that a typo ("rnk>=8") is an error rather than
    /// an empty leaderboard.
    /// </summary>
    /// <exception cref="FilterSyntaxException">A field is known to no entry.</exception>
    public void CheckFields(IReadOnlyList<LeaderboardEntry> entries)
    {
        if (entries.Count == 0) return;
        foreach (var condition in Conditions)
        {
            if (entries.Any(e => Resolve(e, condition.Field) is not null)) continue;
            var known = BuiltInFields
                .Concat(entries.SelectMany(e => e.Trial.Parameters.Keys))
                .Concat(entries.SelectMany(e => e.Trial.Metrics.Keys))
                .Distinct(StringComparer.OrdinalIgnoreCase);
            throw new FilterSyntaxException($"bad filter: unknown field '{condition.Field}'. Fields: {string.Join(", ", known)}.");
        }
    }

    /// <summary>The value of <paramref name="field"/> on an entry as text, or null when the entry has no such field.</summary>
    public static string? Resolve(LeaderboardEntry entry, string field)
    {
        var trial = entry.Trial;
        switch (field.ToLowerInvariant())
        {
            case "kind": return trial.Kind.Name();
            case "trial" or "trial_id" or "trialid" or "id": return trial.TrialId;
            case "sweep": return trial.Sweep;
            case "state": return trial.State.ToString().ToLowerInvariant();
            case "pruned": return trial.Pruned ? "true" : "false";
            case "trainable" or "trainable_parameters" or "trainableparameters": return trial.TrainableParameters.ToString(CultureInfo.InvariantCulture);
            case "peak_memory_bytes" or "peak_memory" or "peakmemorybytes": return trial.PeakMemoryBytes?.ToString(CultureInfo.InvariantCulture);
            case "score": return entry.Score is { } s ? s.ToString("R", CultureInfo.InvariantCulture) : null;
        }
        if (TryGet(trial.Parameters, field, out var parameter)) return parameter.ToString();
        if (TryGet(trial.Metrics, field, out var metric)) return metric.ToString("R", CultureInfo.InvariantCulture);
        return null;
    }

    public static bool TryNumber(string text, out double value) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    public static string Symbol(FilterOperator op) => op switch
    {
        FilterOperator.Equal => "=",
        FilterOperator.NotEqual => "!=",
        FilterOperator.Less => "<",
        FilterOperator.LessOrEqual => "<=",
        FilterOperator.Greater => ">",
        _ => ">=",
    };

    private static bool TryGet<T>(IReadOnlyDictionary<string, T> map, string key, out T value)
    {
        if (map.TryGetValue(key, out value!)) return true;
        foreach (var (k, v) in map)
            if (string.Equals(k, key, StringComparison.OrdinalIgnoreCase)) { value = v; return true; }
        return false;
    }

    private static bool IsKeyword(string text, out string keyword)
    {
        keyword = text.ToLowerInvariant();
        return keyword is "and" or "or" or "&&" or "||";
    }

    private static FilterOperator ParseOperator(string text) => text switch
    {
        "=" or "==" => FilterOperator.Equal,
        "!=" or "<>" => FilterOperator.NotEqual,
        "<" => FilterOperator.Less,
        "<=" => FilterOperator.LessOrEqual,
        ">" => FilterOperator.Greater,
        _ => FilterOperator.GreaterOrEqual,
    };

    private enum TokenKind { Word, Operator }

    private sealed record Token(TokenKind Kind, string Text, int Column);

    private static List<Token> Tokenize(string expression)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < expression.Length)
        {
            var c = expression[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            var column = i + 1;
            if (c is '<' or '>' or '=' or '!')
            {
                var two = i + 1 < expression.Length ? expression.Substring(i, 2) : null;
                if (two is "<=" or ">=" or "==" or "!=" or "<>") { tokens.Add(new Token(TokenKind.Operator, two, column)); i += 2; continue; }
                if (c == '!')
                    throw new FilterSyntaxException($"bad filter \"{expression}\": '!' at column {column} must be '!='. Allowed: {Allowed}.");
                tokens.Add(new Token(TokenKind.Operator, c.ToString(), column));
                i++;
                continue;
            }
            if (c == '&' && i + 1 < expression.Length && expression[i + 1] == '&') { tokens.Add(new Token(TokenKind.Word, "&&", column)); i += 2; continue; }
            if (c == '|' && i + 1 < expression.Length && expression[i + 1] == '|') { tokens.Add(new Token(TokenKind.Word, "||", column)); i += 2; continue; }
            if (c is '"' or '\'')
            {
                var end = expression.IndexOf(c, i + 1);
                if (end < 0)
                    throw new FilterSyntaxException($"bad filter \"{expression}\": the quote at column {column} is never closed. Allowed: {Allowed}.");
                tokens.Add(new Token(TokenKind.Word, expression[(i + 1)..end], column));
                i = end + 1;
                continue;
            }
            var word = new StringBuilder();
            if (c == '[')
            {
                // A list value such as [q_proj, v_proj] is one token, spaces included.
                var end = expression.IndexOf(']', i);
                if (end < 0)
                    throw new FilterSyntaxException($"bad filter \"{expression}\": the '[' at column {column} is never closed. Allowed: {Allowed}.");
                tokens.Add(new Token(TokenKind.Word, expression[i..(end + 1)], column));
                i = end + 1;
                continue;
            }
            while (i < expression.Length && !char.IsWhiteSpace(expression[i]) && expression[i] is not ('<' or '>' or '=' or '!' or '"' or '\''))
            {
                if (expression[i] is '&' or '|' or '(' or ')')
                    throw new FilterSyntaxException($"bad filter \"{expression}\": unexpected '{expression[i]}' at column {i + 1}. Allowed: {Allowed}.");
                word.Append(expression[i]);
                i++;
            }
            tokens.Add(new Token(TokenKind.Word, word.ToString(), column));
        }
        return tokens;
    }
}
