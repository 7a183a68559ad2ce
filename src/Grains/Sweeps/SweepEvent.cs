using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Grains.Sweeps;

/// <summary>
/// One durable change of a sweep. The sweep's state is exactly the replay of these, in order. Events record
/// decisions (the planned trials, the settings a lease carries, the early-stopping rule), never inputs to re-derive
/// them from: a later version that parses YAML or hashes ids differently replays an old journal to the same state.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(SweepSubmitted), "submitted")]
[JsonDerivedType(typeof(SweepExtended), "extended")]
[JsonDerivedType(typeof(SweepStateChanged), "state")]
[JsonDerivedType(typeof(TrialLeased), "leased")]
[JsonDerivedType(typeof(TrialCheckpointed), "checkpointed")]
[JsonDerivedType(typeof(TrialEvaluated), "evaluated")]
[JsonDerivedType(typeof(TrialPruneDecided), "prune-decided")]
[JsonDerivedType(typeof(TrialCompleted), "completed")]
[JsonDerivedType(typeof(TrialFailed), "failed")]
[JsonDerivedType(typeof(TrialRequeued), "requeued")]
[JsonDerivedType(typeof(TrialSuggested), "suggested")]
[JsonDerivedType(typeof(SearchExhausted), "exhausted")]
public abstract record SweepEvent(DateTimeOffset At);

/// <summary>
/// A sweep accepted: its canonical spec and hash (what a resubmission is compared with), the settings, and every
/// planned trial. The YAML text is kept for spec.yaml and <c>GetSpecAsync</c> only; replay never parses it.
/// Spec, Settings and Trials are null only in journals written before they were recorded (see <see cref="LegacySweepEvents"/>).
/// </summary>
public sealed record SweepSubmitted(
    DateTimeOffset At, string YamlText, string FileName, string? SpecHash = null, JsonElement? Spec = null,
    SweepSettings? Settings = null, IReadOnlyList<PlannedTrial>? Trials = null) : SweepEvent(At);

/// <summary>
/// The same spec resubmitted with a larger run_cap: the trials it adds (already known ids are skipped), and for a
/// bayes sweep the new cap on suggestions.
/// </summary>
public sealed record SweepExtended(DateTimeOffset At, string YamlText, IReadOnlyList<PlannedTrial>? Trials = null, int? RunCap = null) : SweepEvent(At);

/// <summary>
/// A bayes sweep's suggestion number <paramref name="Number"/> (0-based): the trial TPE chose, journaled before it is
/// leased, so a restart neither suggests it again nor loses it.
/// </summary>
public sealed record TrialSuggested(DateTimeOffset At, int Number, PlannedTrial Trial) : SweepEvent(At);

/// <summary>A bayes sweep found no new point of its space to suggest (a small grid, all tried): it suggests no more.</summary>
public sealed record SearchExhausted(DateTimeOffset At, int Suggested) : SweepEvent(At);

public sealed record SweepStateChanged(DateTimeOffset At, SweepState State) : SweepEvent(At);

/// <param name="Pack">The pack the trial was leased in (null: alone).</param>
public sealed record TrialLeased(DateTimeOffset At, string Trial, int Attempt, string Worker, string? Pack = null) : SweepEvent(At);

public sealed record TrialCheckpointed(DateTimeOffset At, string Trial, int Attempt, string Location, long Step) : SweepEvent(At);

/// <summary>An intermediate metric: replaying these reproduces every early-stopping decision.</summary>
public sealed record TrialEvaluated(DateTimeOffset At, string Trial, int Attempt, int Iteration, double Metric) : SweepEvent(At);

/// <summary>
/// The early-stopping rule stopped the trial at this evaluation (its rung), journaled with the rule that decided: replay
/// takes the decision as it is and never asks today's rule again (sweeps whose settings say <see cref="SweepSettings.JournalsDecisions"/>).
/// </summary>
public sealed record TrialPruneDecided(DateTimeOffset At, string Trial, int Attempt, int Iteration, string Rule) : SweepEvent(At);

public sealed record TrialCompleted(DateTimeOffset At, string Trial, int Attempt, TrialCompletion Completion) : SweepEvent(At);

public sealed record TrialFailed(DateTimeOffset At, string Trial, int Attempt, string Error, bool Retryable) : SweepEvent(At);

/// <summary>A running attempt ended without a result (worker lost, drained, paused): the trial is queued again.</summary>
public sealed record TrialRequeued(DateTimeOffset At, string Trial, int Attempt, string Reason) : SweepEvent(At);
