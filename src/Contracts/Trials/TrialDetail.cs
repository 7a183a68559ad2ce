using Orchestrator.Contracts.Sweeps;

namespace Orchestrator.Contracts.Trials;

/// <summary>One progress report as the sweep heard it: the step and the metrics the trainer sent with it.</summary>
[GenerateSerializer, Immutable, Alias("MetricPoint")]
public sealed record MetricPoint(
    [property: Id(0)] long Step,
    [property: Id(1)] IReadOnlyDictionary<string, double> Metrics);

/// <summary>One lease of a trial: the worker (`{silo}/{slot}`) it ran on, when, and how it ended (null while running).</summary>
[GenerateSerializer, Immutable, Alias("TrialAttempt")]
public sealed record TrialAttempt(
    [property: Id(0)] int Number,
    [property: Id(1)] string Worker,
    [property: Id(2)] DateTimeOffset StartedAt,
    [property: Id(3)] DateTimeOffset? EndedAt,
    [property: Id(4)] string? Outcome,
    [property: Id(5)] string? Error,
    [property: Id(6)] string? Pack = null)
{
    public string Silo => Worker.Split('/')[0];
}

/// <summary>A trial with its history: every attempt (journaled) and the metric points heard since the sweep grain activated.</summary>
[GenerateSerializer, Immutable, Alias("TrialDetail")]
public sealed record TrialDetail(
    [property: Id(0)] TrialRecord Trial,
    [property: Id(1)] IReadOnlyList<TrialAttempt> Attempts,
    [property: Id(2)] IReadOnlyList<MetricPoint> History,
    [property: Id(3)] IReadOnlyList<TrialCheckpoint> Checkpoints);

/// <summary>
/// The trials that changed after <see cref="TrialChanges.Version"/> of an earlier call (all of them for version 0),
/// with the sweep's status: what a dashboard's one poll per sweep asks for, so a 10,000-trial sweep is not re-sent
/// every second.
/// </summary>
[GenerateSerializer, Immutable, Alias("TrialChanges")]
public sealed record TrialChanges(
    [property: Id(0)] long Version,
    [property: Id(1)] SweepStatus Status,
    [property: Id(2)] IReadOnlyList<TrialRecord> Trials);
