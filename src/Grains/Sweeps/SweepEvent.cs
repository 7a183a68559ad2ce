using System.Text.Json.Serialization;

namespace Orchestrator.Grains.Sweeps;

/// <summary>One durable change of a sweep. The sweep's state is exactly the replay of these, in order.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(SweepSubmitted), "submitted")]
[JsonDerivedType(typeof(SweepExtended), "extended")]
[JsonDerivedType(typeof(SweepStateChanged), "state")]
[JsonDerivedType(typeof(TrialLeased), "leased")]
[JsonDerivedType(typeof(TrialCheckpointed), "checkpointed")]
[JsonDerivedType(typeof(TrialEvaluated), "evaluated")]
[JsonDerivedType(typeof(TrialCompleted), "completed")]
[JsonDerivedType(typeof(TrialFailed), "failed")]
[JsonDerivedType(typeof(TrialRequeued), "requeued")]
public abstract record SweepEvent(DateTimeOffset At);

public sealed record SweepSubmitted(DateTimeOffset At, string YamlText, string FileName) : SweepEvent(At);

/// <summary>The same spec resubmitted with a larger run_cap: the trials it adds are queued.</summary>
public sealed record SweepExtended(DateTimeOffset At, string YamlText) : SweepEvent(At);

public sealed record SweepStateChanged(DateTimeOffset At, SweepState State) : SweepEvent(At);

public sealed record TrialLeased(DateTimeOffset At, string Trial, int Attempt, string Worker) : SweepEvent(At);

public sealed record TrialCheckpointed(DateTimeOffset At, string Trial, int Attempt, string Location, long Step) : SweepEvent(At);

/// <summary>An intermediate metric: replaying these reproduces every early-stopping decision.</summary>
public sealed record TrialEvaluated(DateTimeOffset At, string Trial, int Attempt, int Iteration, double Metric) : SweepEvent(At);

public sealed record TrialCompleted(DateTimeOffset At, string Trial, int Attempt, TrialCompletion Completion) : SweepEvent(At);

public sealed record TrialFailed(DateTimeOffset At, string Trial, int Attempt, string Error, bool Retryable) : SweepEvent(At);

/// <summary>A running attempt ended without a result (worker lost, drained, paused): the trial is queued again.</summary>
public sealed record TrialRequeued(DateTimeOffset At, string Trial, int Attempt, string Reason) : SweepEvent(At);
