using Orchestrator.Trainer.Data.ChatTemplates;

namespace Orchestrator.Trainer.Data.Instructions;

/// <summary>One validated row of a TRL-format dataset: a text, a prompt and its completion, or a conversation.</summary>
/// <param name="Location">`file:line` (JSONL) or `file row N` (Parquet), for messages about the row.</param>
public sealed record InstructionRow(InstructionFormat Format, string Location, string? Text = null, string? Prompt = null, string? Completion = null,
    IReadOnlyList<ChatMessage>? Messages = null);
