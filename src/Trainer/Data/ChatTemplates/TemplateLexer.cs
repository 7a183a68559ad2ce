using System.Globalization;
using System.Text;

namespace Orchestrator.Trainer.Data.ChatTemplates;

internal enum SegmentKind { Text, Output, Statement }

/// <summary>A piece of template source: literal text, or the inside of a <c>{{ }}</c> / <c>{% %}</c> tag (comments are dropped).</summary>
internal sealed record Segment(SegmentKind Kind, string Content, int Line);

internal enum TokenKind { Name, String, Integer, Float, Operator, End }

internal sealed record Token(TokenKind Kind, string Text, object? Value = null);

/// <summary>
/// Splits a template into text and tags with Jinja's whitespace rules as transformers configures them
/// (trim_blocks and lstrip_blocks on, keep_trailing_newline off): <c>{%-</c> / <c>-%}</c> strip all whitespace on that
/// side; a block or comment tag alone on its line loses the indentation before it and the newline after it; one
/// trailing newline of the source is dropped. Then tokenizes a tag's inside.
/// </summary>
internal static class TemplateLexer
{
    public static List<Segment> Split(string source)
    {
        source = source.Replace("\r\n", "\n").Replace('\r', '\n');
        if (source.EndsWith('\n')) source = source[..^1];
        var segments = new List<Segment>();
        var pos = 0;
        while (pos <= source.Length)
        {
            var open = NextOpener(source, pos);
            var text = source[pos..(open < 0 ? source.Length : open)];
            if (open < 0)
            {
                if (text.Length > 0) segments.Add(new Segment(SegmentKind.Text, text, LineOf(source, pos)));
                break;
            }
            var kindChar = source[open + 1];
            var inner = open + 2;
            var modifier = inner < source.Length ? source[inner] : '\0';
            if (modifier == '-')
            {
                text = text.TrimEnd(PythonWhitespace);
                inner++;
            }
            else if (kindChar != '{' && modifier != '+')
            {
                // lstrip_blocks: a block or comment tag preceded on its line by spaces and tabs only takes them away.
                var lineStart = text.LastIndexOf('\n') + 1;
                var atLineStart = lineStart > 0 || pos == 0 || source[pos - 1] == '\n';
                if (atLineStart && text.AsSpan(lineStart).TrimStart(" \t").IsEmpty) text = text[..lineStart];
            }
            else if (modifier == '+') inner++;
            if (text.Length > 0) segments.Add(new Segment(SegmentKind.Text, text, LineOf(source, pos)));

            var closer = kindChar switch { '{' => "}}", '%' => "%}", _ => "#}" };
            var close = kindChar == '#' ? source.IndexOf(closer, inner, StringComparison.Ordinal) : FindCloser(source, inner, closer);
            if (close < 0) throw new ChatTemplateException($"line {LineOf(source, open)}: '{source.Substring(open, 2)}' is never closed by '{closer}'");
            var content = source[inner..close];
            var stripAfter = content.EndsWith('-');
            var keepNewline = content.EndsWith('+');
            if (stripAfter || keepNewline) content = content[..^1];
            pos = close + 2;
            if (stripAfter)
            {
                while (pos < source.Length && char.IsWhiteSpace(source[pos])) pos++;
            }
            else if (kindChar != '{' && !keepNewline && pos < source.Length && source[pos] == '\n')
            {
                pos++; // trim_blocks
            }
            if (kindChar != '#')
                segments.Add(new Segment(kindChar == '{' ? SegmentKind.Output : SegmentKind.Statement, content, LineOf(source, open)));
            if (pos == source.Length) break;
        }
        return segments;
    }

    private static readonly char[] PythonWhitespace = [' ', '\t', '\n', '\r', '\f', '\v'];

    private static int NextOpener(string source, int from)
    {
        for (var i = source.IndexOf('{', from); i >= 0 && i + 1 < source.Length; i = source.IndexOf('{', i + 1))
        {
            if (source[i + 1] is '{' or '%' or '#') return i;
        }
        return -1;
    }

    /// <summary>The closer of a tag, skipping string literals inside it.</summary>
    private static int FindCloser(string source, int from, string closer)
    {
        char quote = '\0';
        for (var i = from; i < source.Length - 1; i++)
        {
            var c = source[i];
            if (quote != '\0')
            {
                if (c == '\\') i++;
                else if (c == quote) quote = '\0';
                continue;
            }
            if (c is '\'' or '"') quote = c;
            else if (c == closer[0] && source[i + 1] == closer[1]) return i;
        }
        return -1;
    }

    private static int LineOf(string source, int index)
    {
        var line = 1;
        for (var i = 0; i < index && i < source.Length; i++) if (source[i] == '\n') line++;
        return line;
    }

    private static readonly string[] Operators =
        ["==", "!=", "<=", ">=", "//", "**", "<", ">", "+", "-", "*", "/", "%", "~", "|", ".", ",", ":", "(", ")", "[", "]", "{", "}", "="];

    public static List<Token> Tokenize(string content, int line)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < content.Length)
        {
            var c = content[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < content.Length && (char.IsLetterOrDigit(content[i]) || content[i] == '_')) i++;
                tokens.Add(new Token(TokenKind.Name, content[start..i]));
                continue;
            }
            if (char.IsDigit(c))
            {
                var start = i;
                while (i < content.Length && (char.IsDigit(content[i]) || content[i] == '_')) i++;
                var isFloat = i + 1 < content.Length && content[i] == '.' && char.IsDigit(content[i + 1]);
                if (isFloat)
                {
                    i++;
                    while (i < content.Length && char.IsDigit(content[i])) i++;
                }
                var text = content[start..i].Replace("_", "");
                tokens.Add(isFloat
                    ? new Token(TokenKind.Float, text, double.Parse(text, CultureInfo.InvariantCulture))
                    : new Token(TokenKind.Integer, text, long.Parse(text, CultureInfo.InvariantCulture)));
                continue;
            }
            if (c is '\'' or '"')
            {
                var (value, end) = ReadString(content, i, line);
                tokens.Add(new Token(TokenKind.String, content[i..end], value));
                i = end;
                continue;
            }
            var op = Operators.FirstOrDefault(o => string.CompareOrdinal(content, i, o, 0, o.Length) == 0)
                ?? throw new ChatTemplateException($"line {line}: unexpected character '{c}' in '{content.Trim()}'");
            tokens.Add(new Token(TokenKind.Operator, op));
            i += op.Length;
        }
        tokens.Add(new Token(TokenKind.End, ""));
        return tokens;
    }

    private static (string Value, int End) ReadString(string content, int start, int line)
    {
        var quote = content[start];
        var value = new StringBuilder();
        for (var i = start + 1; i < content.Length; i++)
        {
            var c = content[i];
            if (c == quote) return (value.ToString(), i + 1);
            if (c != '\\' || i + 1 >= content.Length) { value.Append(c); continue; }
            var e = content[++i];
            switch (e)
            {
                case 'n': value.Append('\n'); break;
                case 't': value.Append('\t'); break;
                case 'r': value.Append('\r'); break;
                case '\\': value.Append('\\'); break;
                case '\'': value.Append('\''); break;
                case '"': value.Append('"'); break;
                case '\n': break;
                case 'u' when i + 4 < content.Length:
                    value.Append((char)int.Parse(content.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    i += 4;
                    break;
                default: value.Append('\\').Append(e); break; // Python keeps unknown escapes as written
            }
        }
        throw new ChatTemplateException($"line {line}: a string literal is never closed in '{content.Trim()}'");
    }
}
