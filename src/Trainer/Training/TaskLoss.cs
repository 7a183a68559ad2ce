using Orchestrator.Trainer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>The training loss of each task: cross-entropy, mean squared error, next-token cross-entropy (targets pre-shifted by the dataset).</summary>
public static class TaskLoss
{
    /// <summary>The loss in fp32 whatever the output's type (a half-precision base gives bf16 or fp16 logits).</summary>
    public static Tensor Compute(TaskKind task, Tensor output, Tensor targets, nn.Reduction reduction = nn.Reduction.Mean)
    {
        if (output.dtype is ScalarType.BFloat16 or ScalarType.Float16)
        {
            using var scope = NewDisposeScope();
            return Loss(task, output.to(ScalarType.Float32), targets, reduction).MoveToOuterDisposeScope();
        }
        return Loss(task, output, targets, reduction);
    }

    private static Tensor Loss(TaskKind task, Tensor output, Tensor targets, nn.Reduction reduction) => task switch
    {
        TaskKind.Classification or TaskKind.TextClassification => nn.functional.cross_entropy(output, targets, reduction: reduction),
        TaskKind.Regression => nn.functional.mse_loss(output, targets, reduction),
        TaskKind.CausalLm or TaskKind.InstructionTuning or TaskKind.InstructionLabels => NextTokenCrossEntropy(output, targets, reduction),
        _ => throw new ArgumentOutOfRangeException(nameof(task), task, null),
    };

    /// <summary>
    /// Logits [B, T, V] at position t score target t, which the dataset has already shifted to be token t+1; targets of
    /// -100 (padding, prompts, non-assistant turns) are ignored, as transformers' labels are.
    /// </summary>
    private static Tensor NextTokenCrossEntropy(Tensor logits, Tensor targets, nn.Reduction reduction) =>
        nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), targets.reshape(-1), ignore_index: IgnoreIndex, reduction: reduction);

    /// <summary>The target that carries no loss.</summary>
    public const long IgnoreIndex = -100;

    /// <summary>How many loss terms a batch contributes (samples, elements or predicted tokens), to average over a test set.</summary>
    public static long Terms(TaskKind task, Tensor output, Tensor targets) => task switch
    {
        TaskKind.Classification or TaskKind.TextClassification => targets.shape[0],
        TaskKind.Regression => output.numel(),
        TaskKind.CausalLm or TaskKind.InstructionTuning or TaskKind.InstructionLabels => targets.ne(IgnoreIndex).sum().item<long>(),
        _ => throw new ArgumentOutOfRangeException(nameof(task), task, null),
    };
}
