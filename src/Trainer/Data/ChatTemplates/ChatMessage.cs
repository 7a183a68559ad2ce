namespace Orchestrator.Trainer.Data.ChatTemplates;

/// <summary>One turn of a conversation, as TRL's conversational rows and transformers' apply_chat_template take it.</summary>
/// <param name="Fields">Every field of the row's message object (role and content included), for templates that read more (tool_calls); null: role and content only.</param>
public sealed record ChatMessage(string Role, string Content, IReadOnlyDictionary<string, object?>? Fields = null)
{
    public const string System = "system";
    public const string User = "user";
    public const string Assistant = "assistant";
    public const string Tool = "tool";

    /// <summary>The roles TRL's conversational datasets use.</summary>
    public static readonly IReadOnlyList<string> Roles = [System, User, Assistant, Tool];

    internal OrderedDictionary<string, object?> ToTemplateValue()
    {
        var dict = new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["role"] = Role, ["content"] = Content };
        foreach (var (key, value) in Fields ?? new Dictionary<string, object?>())
        {
            if (key is not ("role" or "content")) dict[key] = value;
        }
        return dict;
    }
}
