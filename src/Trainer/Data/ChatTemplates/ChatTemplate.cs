namespace Orchestrator.Trainer.Data.ChatTemplates;

/// <summary>
/// A Hugging Face chat template (tokenizer_config.json's <c>chat_template</c>), rendered as transformers'
/// apply_chat_template(tokenize=False) renders it: Jinja with trim_blocks and lstrip_blocks, the variables
/// <c>messages</c>, <c>add_generation_prompt</c>, <c>tools</c> and <c>documents</c> (none), the tokenizer's special
/// tokens (<c>bos_token</c>, <c>eos_token</c>, …) and <c>raise_exception</c>. No maintained Jinja engine for .NET is
/// served here, so this renders the subset chat templates use (see <see cref="TemplateParser"/> and
/// <see cref="TemplateFunctions"/>) and refuses anything else by name when the template is parsed, before any data is read.
/// </summary>
public sealed class ChatTemplate
{
    private readonly IReadOnlyList<Node> _nodes;

    private ChatTemplate(string source, IReadOnlyList<Node> nodes)
    {
        Source = source;
        _nodes = nodes;
    }

    public string Source { get; }

    /// <exception cref="ChatTemplateException">A syntax error or a construct this renderer does not render, named.</exception>
    public static ChatTemplate Parse(string source) => new(source, TemplateParser.Parse(source));

    /// <param name="specialTokens">bos_token, eos_token, pad_token, unk_token… by name, as transformers passes special_tokens_map.</param>
    /// <exception cref="ChatTemplateException">The template raised (raise_exception) or did something Jinja refuses.</exception>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, IReadOnlyDictionary<string, string>? specialTokens = null)
    {
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, token) in specialTokens ?? new Dictionary<string, string>()) variables[name] = token;
        variables["messages"] = messages.Select(m => (object?)m.ToTemplateValue()).ToList();
        variables["tools"] = null;
        variables["documents"] = null;
        variables["add_generation_prompt"] = addGenerationPrompt;
        return TemplateRenderer.Render(_nodes, variables);
    }
}
