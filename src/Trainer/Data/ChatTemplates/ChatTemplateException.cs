namespace Orchestrator.Trainer.Data.ChatTemplates;

/// <summary>
/// A chat template that cannot be rendered: a construct outside the subset <see cref="ChatTemplate"/> renders (named in
/// the message), a syntax error, an operation Jinja would refuse, or the template's own <c>raise_exception(...)</c>
/// (<see cref="RaisedByTemplate"/>; its message is the template's, as transformers' TemplateError carries it).
/// </summary>
public sealed class ChatTemplateException(string message, bool raisedByTemplate = false) : Exception(message)
{
    public bool RaisedByTemplate { get; } = raisedByTemplate;
}
