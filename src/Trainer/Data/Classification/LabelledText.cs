using System.Text;
using System.Text.Json;

namespace Orchestrator.Trainer.Data.Classification;

/// <summary>One example: its text and its label as written (a string, or an integer's digits).</summary>
public readonly record struct LabelledText(string Text, string Label);

/// <summary>
/// Reads labelled texts: JSONL (<c>{"text": "...", "label": "pos"}</c> or an integer label, one object a line, blank
/// lines skipped) or CSV with a header naming <c>text</c> and <c>label</c> columns (RFC 4180 quoting; other columns
/// ignored). A bad row throws <see cref="TextClassificationFormatException"/> naming file and line.
/// </summary>
public static class LabelledTextFile
{
    public static IReadOnlyList<LabelledText> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"text-classification file not found: {path}", path);
        if (path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase)) return ReadJsonl(path);
        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)) return ReadCsv(path);
        throw new ArgumentException($"'{path}' is neither .jsonl nor .csv.", nameof(path));
    }

    private static List<LabelledText> ReadJsonl(string path)
    {
        var rows = new List<LabelledText>();
        var line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(text);
            }
            catch (JsonException e)
            {
                throw new TextClassificationFormatException(path, line, $"not valid JSON ({e.Message})");
            }
            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                    throw new TextClassificationFormatException(path, line, "expected an object with \"text\" and \"label\"");
                if (!root.TryGetProperty("text", out var body) || body.ValueKind != JsonValueKind.String)
                    throw new TextClassificationFormatException(path, line, "\"text\" is missing or not a string");
                if (!root.TryGetProperty("label", out var label))
                    throw new TextClassificationFormatException(path, line, "\"label\" is missing");
                var name = label.ValueKind switch
                {
                    JsonValueKind.String when label.GetString() is { Length: > 0 } s => s,
                    JsonValueKind.Number when label.TryGetInt64(out var i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    _ => throw new TextClassificationFormatException(path, line, $"\"label\" must be a non-empty string or an integer, got {label.GetRawText()}"),
                };
                rows.Add(new LabelledText(body.GetString()!, name));
            }
        }
        return rows;
    }

    private static List<LabelledText> ReadCsv(string path)
    {
        var rows = new List<LabelledText>();
        using var reader = new StreamReader(path, Encoding.UTF8);
        var line = 1;
        var header = ReadRecord(reader, path, ref line, out _)
            ?? throw new TextClassificationFormatException(path, 1, "empty file; expected a header with text and label columns");
        var textColumn = header.FindIndex(h => h.Trim().Equals("text", StringComparison.OrdinalIgnoreCase));
        var labelColumn = header.FindIndex(h => h.Trim().Equals("label", StringComparison.OrdinalIgnoreCase));
        if (textColumn < 0 || labelColumn < 0)
            throw new TextClassificationFormatException(path, 1, $"the header [{string.Join(", ", header)}] needs a 'text' and a 'label' column");
        while (ReadRecord(reader, path, ref line, out var start) is { } record)
        {
            if (record is [""]) continue; // blank line
            if (record.Count != header.Count)
                throw new TextClassificationFormatException(path, start, $"{record.Count} fields, the header has {header.Count}");
            var label = record[labelColumn].Trim();
            if (label.Length == 0) throw new TextClassificationFormatException(path, start, "empty label");
            rows.Add(new LabelledText(record[textColumn], label));
        }
        return rows;
    }

    /// <summary>One CSV record (quoted fields may span lines); null at the end. <paramref name="start"/> is its first line.</summary>
    private static List<string>? ReadRecord(StreamReader reader, string path, ref int line, out int start)
    {
        start = line;
        if (reader.Peek() < 0) return null;
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        var wasQuoted = false;
        while (true)
        {
            var c = reader.Read();
            if (c < 0)
            {
                if (quoted) throw new TextClassificationFormatException(path, start, "a quoted field is not closed before the end of the file");
                fields.Add(field.ToString());
                return fields;
            }
            if (quoted)
            {
                if (c == '"')
                {
                    if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                    else quoted = false;
                }
                else
                {
                    if (c == '\n') line++;
                    field.Append((char)c);
                }
                continue;
            }
            switch (c)
            {
                case '"' when field.Length == 0 && !wasQuoted:
                    quoted = wasQuoted = true;
                    break;
                case '"':
                    throw new TextClassificationFormatException(path, line, "a quote inside an unquoted field (quote the whole field and double inner quotes)");
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    wasQuoted = false;
                    break;
                case '\r':
                    break;
                case '\n':
                    line++;
                    fields.Add(field.ToString());
                    return fields;
                default:
                    if (wasQuoted) throw new TextClassificationFormatException(path, line, "text after a closing quote");
                    field.Append((char)c);
                    break;
            }
        }
    }
}
