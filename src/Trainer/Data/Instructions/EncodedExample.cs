namespace Orchestrator.Trainer.Data.Instructions;

/// <summary>
/// One tokenized example: its ids and which of them carry the loss (<see cref="Trained"/>), before the shift of
/// next-token prediction: input t is <c>Ids[t]</c>, its target <c>Ids[t + 1]</c>, trained when <c>Trained[t + 1]</c>.
/// </summary>
public sealed record EncodedExample(int[] Ids, bool[] Trained)
{
    /// <summary>Predicted positions (Ids.Length - 1) that carry the loss.</summary>
    public int TrainedTargets => Trained.Skip(1).Count(t => t);

    public EncodedExample Truncate(int tokens) =>
        Ids.Length <= tokens ? this : new EncodedExample(Ids[..tokens], Trained[..tokens]);
}
