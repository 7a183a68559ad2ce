using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Silo.Training;

/// <summary>How a failed attempt is told to the sweep: its reason, and whether another attempt could succeed.</summary>
public static class TrialFailures
{
    /// <summary>
    /// False for errors in the trial itself, which every attempt would hit again: a bad config (any
    /// <see cref="ArgumentException"/>, invalid training configs included), LoRA targets the model lacks, an unknown
    /// model, a loss that diverges (seeded training diverges the same way again), a named model or dataset that neither
    /// the store nor this silo's packages provide. The sweep then fails the trial at
    /// once instead of max_failures times.
    /// </summary>
    public static bool IsRetryable(Exception exception) => exception is not
        (ArgumentException or LoraTargetException or UnknownModelException or TrialDivergedException
        or NamedResourceUnavailableException);

    public static TrialFailure Of(TrialLease lease, Exception exception) =>
        new(lease.TrialId, lease.Attempt, Describe(exception), IsRetryable(exception));

    public static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";
}
