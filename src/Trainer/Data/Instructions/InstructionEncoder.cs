using Orchestrator.Trainer.Data.ChatTemplates;
using Orchestrator.Trainer.Data.Tokenizers;

namespace Orchestrator.Trainer.Data.Instructions;

/// <summary>
/// Rows to token ids and loss masks as TRL's SFTTrainer builds them:
/// <list type="bullet">
/// <item>text: BOS when the tokenizer adds one, the text, EOS; every token trained;</item>
/// <item>prompt/completion: BOS, the prompt, the completion, EOS (the two tokenized apart, as TRL does); with
/// completion_only_loss the completion and EOS are trained, otherwise everything;</item>
/// <item>conversation: the chat template's rendering (its own BOS and turn markers; no tokens added), tokenized with special
/// tokens as single ids; with assistant_only_loss only the text each assistant turn adds is trained: the rendering of
/// the messages before it with the generation prompt, and of the messages through it, must be prefixes of the whole
/// (what a template that renders turn by turn gives), and the difference is the assistant's.</item>
/// </list>
/// </summary>
public sealed class InstructionEncoder(ModelTokenizer tokenizer, ChatTemplate? template, bool completionOnlyLoss, bool assistantOnlyLoss)
{
    public ModelTokenizer Tokenizer { get; } = tokenizer;
    public ChatTemplate? Template { get; } = template;

    /// <summary>Ids and trained flags of a row, untruncated.</summary>
    /// <exception cref="InvalidDataException">A conversation without a chat template, or one the template refuses (its raise_exception), with the row's location.</exception>
    public EncodedExample Encode(InstructionRow row)
    {
        var ids = new List<int>();
        var trained = new List<bool>();
        void Add(IEnumerable<int> tokens, bool train)
        {
            foreach (var id in tokens)
            {
                ids.Add(id);
                trained.Add(train);
            }
        }
        var bos = Tokenizer.AddBos && Tokenizer.BosId is { } b ? new[] { b } : [];
        int[] eos = Tokenizer.EosId is { } e ? [e] : [];
        switch (row.Format)
        {
            case InstructionFormat.Text:
                Add(bos, true);
                Add(Tokenizer.Encode(row.Text!, addSpecialTokens: false), true);
                Add(eos, true);
                break;
            case InstructionFormat.PromptCompletion:
                Add(bos, !completionOnlyLoss);
                Add(Tokenizer.Encode(row.Prompt!, addSpecialTokens: false), !completionOnlyLoss);
                Add(Tokenizer.Encode(row.Completion!, addSpecialTokens: false), true);
                Add(eos, true);
                break;
            default:
                foreach (var (text, assistant) in ConversationSegments(row))
                    Add(Tokenizer.Encode(text, addSpecialTokens: false), assistant || !assistantOnlyLoss);
                break;
        }
        return new EncodedExample([.. ids], [.. trained]);
    }

    /// <summary>The rendered conversation cut into pieces, each marked whether an assistant turn wrote it.</summary>
    public List<(string Text, bool Assistant)> ConversationSegments(InstructionRow row)
    {
        if (Template is null)
            throw new InvalidDataException($"{row.Location}: conversational rows need a chat template: the model folder's tokenizer_config.json has none; give chat_template (a template file)");
        var messages = row.Messages!;
        var full = Render(row, messages, addGenerationPrompt: false);
        if (!assistantOnlyLoss) return [(full, false)];
        var segments = new List<(string, bool)>();
        var position = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i].Role != ChatMessage.Assistant) continue;
            var before = Render(row, messages.Take(i).ToList(), addGenerationPrompt: true);
            var through = Render(row, messages.Take(i + 1).ToList(), addGenerationPrompt: false);
            if (!through.StartsWith(before, StringComparison.Ordinal) || !full.StartsWith(through, StringComparison.Ordinal) || before.Length < position)
                throw new InvalidDataException(
                    $"{row.Location}: the chat template does not render this conversation turn by turn (the messages before assistant turn {i + 1} with the generation prompt are not a prefix of the whole), so the assistant's tokens cannot be told apart; set assistant_only_loss: false to train on every token");
            if (before.Length > position) segments.Add((full[position..before.Length], false));
            if (through.Length > before.Length) segments.Add((full[before.Length..through.Length], true));
            position = through.Length;
        }
        if (position < full.Length) segments.Add((full[position..], false));
        return segments;
    }

    private string Render(InstructionRow row, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        try
        {
            return Template!.Render(messages, addGenerationPrompt, Tokenizer.SpecialTokenNames);
        }
        catch (ChatTemplateException e)
        {
            throw new InvalidDataException($"{row.Location}: the chat template refused this conversation: {e.Message}", e);
        }
    }
}
