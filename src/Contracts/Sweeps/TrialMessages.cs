using Orchestrator.Trials.Configuration;

namespace Orchestrator.Contracts.Sweeps;

/// <summary>A worker's slot asking for work: who it is and what it can hold.</summary>
[GenerateSerializer, Immutable, Alias("WorkerSlot")]
public sealed record WorkerSlot(
    [property: Id(0)] string WorkerId,
    [property: Id(1)] string Silo,
    [property: Id(2)] string Device,
    [property: Id(3)] long FreeMemoryBytes);

/// <summary>
/// A trial handed to a worker: everything the trainer needs, plus where to resume from (checkpoints newest first; older
/// ones are the fallback when a newer one is corrupt). <c>Pack</c> names the pack it trains in (the leases handed out
/// together by one <see cref="ISweepGrain.LeasePackAsync"/>), null when it trains alone. The config and the base are
/// the trial model's records, typed from the plan to the trainer (<see cref="TrialModelSurrogates"/> carries them).
/// </summary>
[GenerateSerializer, Immutable, Alias("TrialLease")]
public sealed record TrialLease(
    [property: Id(0)] string Sweep,
    [property: Id(1)] string TrialId,
    [property: Id(2)] int Attempt,
    [property: Id(3)] Trials.TrialKind Kind,
    [property: Id(4)] TrainingConfig Config,
    [property: Id(5)] BaseModelSpec Base,
    [property: Id(6)] IReadOnlyList<TrialCheckpoint> Checkpoints,
    [property: Id(7)] long MemoryEstimateBytes,
    [property: Id(8)] string Model,
    [property: Id(9)] string Dataset,
    [property: Id(10)] string? Pack = null);

[GenerateSerializer, Immutable, Alias("TrialProgressReport")]
public sealed record TrialProgressReport(
    [property: Id(0)] string TrialId,
    [property: Id(1)] int Attempt,
    [property: Id(2)] long Step,
    [property: Id(3)] long TotalSteps,
    [property: Id(4)] IReadOnlyDictionary<string, double> Metrics,
    [property: Id(5)] int Evaluation,
    [property: Id(6)] bool IsEvaluation);

/// <summary>What a running trial should do next.</summary>
[GenerateSerializer, Alias("TrialDirective")]
public enum TrialDirective
{
    Continue,
    /// <summary>Early stopping: stop now and report the result as pruned (metrics, checkpoint and adapter kept).</summary>
    Prune,
    /// <summary>Pause or drain: stop, keep the checkpoint, hand the trial back to the queue.</summary>
    Release,
    /// <summary>The sweep was cancelled or this attempt is stale: stop and record nothing.</summary>
    Abandon,
}

[GenerateSerializer, Immutable, Alias("TrialCheckpoint")]
public sealed record TrialCheckpoint(
    [property: Id(0)] string TrialId,
    [property: Id(1)] int Attempt,
    [property: Id(2)] string Location,
    [property: Id(3)] long Step);

[GenerateSerializer, Immutable, Alias("TrialCompletion")]
public sealed record TrialCompletion(
    [property: Id(0)] string TrialId,
    [property: Id(1)] int Attempt,
    [property: Id(2)] IReadOnlyDictionary<string, double> Metrics,
    [property: Id(3)] long TrainableParameters,
    [property: Id(4)] long TotalParameters,
    [property: Id(5)] long Steps,
    [property: Id(6)] double ElapsedSeconds,
    [property: Id(7)] bool Pruned,
    [property: Id(8)] string? ResultSha256,
    [property: Id(9)] string? AdapterSha256,
    [property: Id(10)] long? PeakMemoryBytes = null);

[GenerateSerializer, Immutable, Alias("TrialFailure")]
public sealed record TrialFailure(
    [property: Id(0)] string TrialId,
    [property: Id(1)] int Attempt,
    [property: Id(2)] string Error,
    [property: Id(3)] bool Retryable);
