using Orchestrator.Trainer.Data.ChatTemplates;
using Orchestrator.Trainer.Data.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Data.Instructions;

/// <summary>
/// Every test prompt once with each candidate completion (the distinct completions of the data, the labels), encoded as
/// training encodes them with the loss on the completion: <see cref="Inputs"/> [N·C, 3, T] and <see cref="Targets"/>
/// [N·C, T], prompt-major, and the index of each prompt's true label. A prompt's prediction is the candidate whose
/// trained tokens have the highest summed log-likelihood (lm-evaluation-harness's acc). A prompt is scored only when
/// every candidate fits seq_len whole: a completion cut short would be compared on fewer tokens (a cut-off candidate
/// scores 0, the best a sum of log-likelihoods can be), so such prompts are left out and counted in <see cref="Unscored"/>,
/// as the test loss leaves out the examples truncation leaves no trained token.
/// </summary>
public sealed class LabelChoices : IDisposable
{
    private LabelChoices(IReadOnlyList<string> candidates, int[] correct, int unscored, Tensor inputs, Tensor targets)
    {
        Candidates = candidates;
        Unscored = unscored;
        Correct = correct;
        Inputs = inputs.DetachFromDisposeScope();
        Targets = targets.DetachFromDisposeScope();
    }

    public IReadOnlyList<string> Candidates { get; }
    /// <summary>Per test prompt, the index of its completion in <see cref="Candidates"/>.</summary>
    public int[] Correct { get; }
    /// <summary>Test prompts left out because a candidate completion did not fit seq_len whole.</summary>
    public int Unscored { get; }
    public Tensor Inputs { get; }
    public Tensor Targets { get; }

    public static LabelChoices Create(IReadOnlyList<InstructionRow> test, IEnumerable<string> completions, ModelTokenizer tokenizer, ChatTemplate? template, int maxTokens, int padId)
    {
        var candidates = completions.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var encoder = new InstructionEncoder(tokenizer, template, completionOnlyLoss: true, assistantOnlyLoss: true);
        var windows = new List<InstructionDataset.Window>();
        var correct = new List<int>();
        foreach (var row in test)
        {
            var encoded = candidates.Select(candidate => encoder.Encode(row with { Completion = candidate }))
                .Select(whole => (Whole: whole, Cut: whole.Truncate(maxTokens))).ToList();
            if (encoded.Any(e => e.Cut.TrainedTargets < e.Whole.TrainedTargets)) continue;
            windows.AddRange(encoded.Select(e => InstructionDataset.Window.Of(e.Cut))); // untrained tail tokens past seq_len go
            correct.Add(candidates.IndexOf(row.Completion!));
        }
        if (correct.Count == 0 && test.Count > 0)
            throw new InvalidDataException($"no test prompt leaves room within seq_len {maxTokens - 1} for every label completion ({string.Join(", ", candidates.Select(c => $"'{c}'"))}); raise seq_len");
        using var scope = torch.NewDisposeScope();
        var (inputs, targets) = InstructionDataset.Stack(windows, padId);
        return new LabelChoices(candidates, [.. correct], test.Count - correct.Count, inputs, targets);
    }

    public void Dispose()
    {
        Inputs.Dispose();
        Targets.Dispose();
    }
}
