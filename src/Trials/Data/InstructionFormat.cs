namespace Orchestrator.Trials.Data;

/// <summary>The row shapes of TRL's SFTTrainer datasets.</summary>
public enum InstructionFormat
{
    /// <summary><c>{"text": ...}</c>: language modelling, the loss on every token.</summary>
    Text,
    /// <summary><c>{"prompt": ..., "completion": ...}</c>: the loss on the completion by default (completion_only_loss).</summary>
    PromptCompletion,
    /// <summary><c>{"messages": [{"role", "content"}, ...]}</c>: rendered by the chat template, the loss on assistant turns by default.</summary>
    Conversation,
}

/// <summary>Which format a row is, and when prompt/completion rows are a labelling task.</summary>
public static class InstructionFormats
{
    /// <summary>At most this many distinct completions make a label set (scored by test_accuracy).</summary>
    public const int MaxLabels = 10;

    /// <summary>The format a row's fields claim (messages, else prompt or completion, else text), or null for none of them.</summary>
    public static InstructionFormat? Of(IReadOnlyDictionary<string, object?> fields) =>
        fields.ContainsKey("messages") ? InstructionFormat.Conversation
        : fields.ContainsKey("prompt") || fields.ContainsKey("completion") ? InstructionFormat.PromptCompletion
        : fields.ContainsKey("text") ? InstructionFormat.Text
        : null;

    /// <summary>
    /// Completions are labels when there are 2 to <see cref="MaxLabels"/> distinct ones and each is seen at least twice on
    /// average: IMDB's " positive" / " negative" are; free-text answers are not.
    /// </summary>
    public static bool AreLabels(IReadOnlyCollection<string> completions)
    {
        var distinct = completions.Distinct(StringComparer.Ordinal).Count();
        return distinct is >= 2 and <= MaxLabels && completions.Count >= 2 * distinct;
    }
}
