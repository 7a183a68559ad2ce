using Orchestrator.Trainer.Data.ChatTemplates;
using Orchestrator.Trainer.Data.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Data.Instructions;

/// <summary>
/// Every test prompt once with each candidate completion (the distinct completions of the data, the labels), encoded as
/// training encodes them with the loss on the completion: <see cref="Inputs"/> [N·C, 3, T] and <see cref="Targets"/>
/// [N·C, T], prompt-major, and the index of each prompt's true label. A prompt's prediction is the candidate whose
/// trained tokens have the highest summed log-likelihood (lm-evaluation-harness's acc).
/// </summary>
public sealed class LabelChoices : IDisposable
{
    private LabelChoices(IReadOnlyList<string> candidates, int[] correct, Tensor inputs, Tensor targets)
    {
        Candidates = candidates;
        Correct = correct;
        Inputs = inputs.DetachFromDisposeScope();
        Targets = targets.DetachFromDisposeScope();
    }

    public IReadOnlyList<string> Candidates { get; }
    /// <summary>Per test prompt, the index of its completion in <see cref="Candidates"/>.</summary>
    public int[] Correct { get; }
    public Tensor Inputs { get; }
    public Tensor Targets { get; }

    internal static LabelChoices Create(IReadOnlyList<InstructionRow> test, IEnumerable<string> completions, ModelTokenizer tokenizer, ChatTemplate? template, int maxTokens, int padId)
    {
        var candidates = completions.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var encoder = new InstructionEncoder(tokenizer, template, completionOnlyLoss: true, assistantOnlyLoss: true);
        var windows = new List<InstructionDataset.Window>();
        foreach (var row in test)
        {
            foreach (var candidate in candidates)
                windows.Add(InstructionDataset.Window.Of(encoder.Encode(row with { Completion = candidate }).Truncate(maxTokens)));
        }
        using var scope = torch.NewDisposeScope();
        var (inputs, targets) = InstructionDataset.Stack(windows, padId);
        return new LabelChoices(candidates, test.Select(r => candidates.IndexOf(r.Completion!)).ToArray(), inputs, targets);
    }

    public void Dispose()
    {
        Inputs.Dispose();
        Targets.Dispose();
    }
}
