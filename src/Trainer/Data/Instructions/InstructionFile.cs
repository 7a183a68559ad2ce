using Orchestrator.Trainer.Data.ChatTemplates;

namespace Orchestrator.Trainer.Data.Instructions;

/// <summary>
/// Reads a JSONL or Parquet file of TRL SFTTrainer rows (<see cref="DatasetRows"/>) and checks every row: one format
/// for the whole file (the first row's), strings where strings belong, prompt and completion both present, messages a
/// non-empty list of {role, content} with a known role. Every bad row is reported (the first ten by location, and how
/// many), and nothing trains from a file with one.
/// </summary>
public static class InstructionFile
{
    public const int ReportedProblems = 10;

    public static List<InstructionRow> Read(string path)
    {
        var rows = new List<InstructionRow>();
        var problems = new List<string>();
        InstructionFormat? format = null;
        foreach (var row in DatasetRows.Read(path))
        {
            if (row.Fields is not { } fields)
            {
                problems.Add($"{row.Location}: {row.Error}");
                continue;
            }
            var rowFormat = InstructionFormats.Of(fields);
            if (rowFormat is null)
            {
                problems.Add($"{row.Location}: expected {{\"text\"}}, {{\"prompt\", \"completion\"}} or {{\"messages\": [{{\"role\", \"content\"}}, ...]}}, found {Keys(fields)}");
                continue;
            }
            format ??= rowFormat;
            if (rowFormat != format)
            {
                problems.Add($"{row.Location}: a {Describe(rowFormat.Value)} row in a file of {Describe(format.Value)} rows");
                continue;
            }
            var (parsed, problem) = Parse(rowFormat.Value, row.Location, fields);
            if (problem is not null) problems.Add($"{row.Location}: {problem}");
            else rows.Add(parsed!);
        }
        if (problems.Count > 0)
        {
            var shown = string.Join("\n  ", problems.Take(ReportedProblems));
            var more = problems.Count > ReportedProblems ? $"\n  … and {problems.Count - ReportedProblems} more" : "";
            throw new InvalidDataException($"{problems.Count} bad row{(problems.Count == 1 ? "" : "s")} in '{path}':\n  {shown}{more}");
        }
        if (rows.Count == 0) throw new InvalidDataException($"'{path}' has no rows: expected one JSON object a line (.jsonl) or a Parquet table of TRL rows ({{\"text\"}}, {{\"prompt\", \"completion\"}} or {{\"messages\"}})");
        return rows;
    }

    public static string Describe(InstructionFormat format) => format switch
    {
        InstructionFormat.Text => "{\"text\"}",
        InstructionFormat.PromptCompletion => "{\"prompt\", \"completion\"}",
        _ => "{\"messages\"}",
    };

    private static string Keys(IReadOnlyDictionary<string, object?> fields) =>
        fields.Count == 0 ? "an empty object" : "the keys " + string.Join(", ", fields.Keys.Select(k => $"\"{k}\""));

    private static (InstructionRow?, string?) Parse(InstructionFormat format, string location, IReadOnlyDictionary<string, object?> fields)
    {
        switch (format)
        {
            case InstructionFormat.Text:
                return fields["text"] is string text ? (new InstructionRow(format, location, Text: text), null) : (null, "\"text\" must be a string");
            case InstructionFormat.PromptCompletion:
            {
                if (!fields.TryGetValue("prompt", out var prompt)) return (null, "a prompt/completion row needs a \"prompt\" (a string); this row has none");
                if (!fields.TryGetValue("completion", out var completion)) return (null, "a prompt/completion row needs a \"completion\" (a string); this row has none");
                if (prompt is not string p) return (null, "\"prompt\" must be a string (conversational prompts are not supported; use {\"messages\"})");
                if (completion is not string c) return (null, "\"completion\" must be a string (conversational completions are not supported; use {\"messages\"})");
                return (new InstructionRow(format, location, Prompt: p, Completion: c), null);
            }
            default:
            {
                if (fields["messages"] is not List<object?> list || list.Count == 0) return (null, "\"messages\" must be a non-empty list of {\"role\", \"content\"} objects");
                var messages = new List<ChatMessage>();
                for (var i = 0; i < list.Count; i++)
                {
                    if (list[i] is not IReadOnlyDictionary<string, object?> message) return (null, $"message {i + 1} is not an object");
                    if (!message.TryGetValue("role", out var role) || role is not string r) return (null, $"message {i + 1} needs a string \"role\"");
                    if (!ChatMessage.Roles.Contains(r)) return (null, $"message {i + 1} has the unknown role '{r}'; roles are {string.Join(", ", ChatMessage.Roles)}");
                    if (!message.TryGetValue("content", out var content) || content is not string body) return (null, $"message {i + 1} needs a string \"content\"");
                    messages.Add(new ChatMessage(r, body, message.ToDictionary(kv => kv.Key, kv => ChatTemplateValue(kv.Value))));
                }
                return (new InstructionRow(format, location, Messages: messages), null);
            }
        }
    }

    /// <summary>Plain row values (dictionaries, lists) as chat-template values (insertion-ordered dicts).</summary>
    private static object? ChatTemplateValue(object? value) => value switch
    {
        IReadOnlyDictionary<string, object?> dict => TemplateValues.ToDict(dict.Select(kv => (kv.Key, ChatTemplateValue(kv.Value)))),
        List<object?> list => list.Select(ChatTemplateValue).ToList(),
        _ => value,
    };
}
