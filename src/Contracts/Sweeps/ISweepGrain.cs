namespace Orchestrator.Contracts.Sweeps;

/// <summary>
/// One sweep, keyed by its name: the spec, its trials and their attempts. Every state change is journaled in the
/// same call that makes it. Worker-facing methods are idempotent by (trial id, attempt).
/// </summary>
[Alias("sweep")]
public interface ISweepGrain : IGrainWithStringKey
{
    // Submission is ISweepPlanGrain's (src/Grains/Sweeps): the CLI sends the parsed plan, typed, never YAML text.
    [Alias("status")] Task<SweepStatus> GetStatusAsync(CancellationToken cancellationToken = default);
    [Alias("trials")] Task<IReadOnlyList<Trials.TrialRecord>> GetTrialsAsync(CancellationToken cancellationToken = default);
    [Alias("spec")] Task<SweepSpecView?> GetSpecAsync(CancellationToken cancellationToken = default);
    /// <summary>Trials changed since <paramref name="sinceVersion"/> (0: all), with the status: the dashboard's poll.</summary>
    [Alias("changes")] Task<Trials.TrialChanges> GetChangesAsync(long sinceVersion, CancellationToken cancellationToken = default);
    /// <summary>One trial with its attempts and metric history; null when the sweep has no such trial.</summary>
    [Alias("trial")] Task<Trials.TrialDetail?> GetTrialAsync(string trialId, CancellationToken cancellationToken = default);
    /// <summary>The metric history of each named trial that exists (at most 100 are answered).</summary>
    [Alias("curves")] Task<IReadOnlyDictionary<string, IReadOnlyList<Trials.MetricPoint>>> GetCurvesAsync(IReadOnlyList<string> trialIds, CancellationToken cancellationToken = default);
    [Alias("control")] Task<SweepStatus> ControlAsync(SweepCommand command, CancellationToken cancellationToken = default);

    // --- worker side ----------------------------------------------------------------------------------------------
    /// <summary>Hands out at most <paramref name="maxTrials"/> queued trials that fit, or none.</summary>
    [Alias("lease")] Task<IReadOnlyList<TrialLease>> LeaseAsync(WorkerSlot worker, int maxTrials, CancellationToken cancellationToken = default);
    /// <summary>
    /// What one worker slot trains next: one queued trial, or (the sweep's `pack` on) up to <paramref name="maxMembers"/>
    /// queued LoRA trials that can share a frozen base, each journaled as its own lease with the pack's id. The sweep's
    /// `parallel` then counts slots, not trials. Empty when nothing fits.
    /// </summary>
    [Alias("lease-pack")] Task<IReadOnlyList<TrialLease>> LeasePackAsync(WorkerSlot worker, int maxMembers, CancellationToken cancellationToken = default);
    /// <summary>Heartbeat + latest metrics. The reply tells the trainer whether to go on (pruning, cancel, pause).</summary>
    [Alias("progress")] Task<TrialDirective> ReportProgressAsync(TrialProgressReport report, CancellationToken cancellationToken = default);
    [Alias("checkpoint")] Task ReportCheckpointAsync(TrialCheckpoint checkpoint, CancellationToken cancellationToken = default);
    /// <summary>Records a result once: a second completion of the same trial (any attempt) changes nothing and returns false.</summary>
    [Alias("complete")] Task<bool> CompleteTrialAsync(TrialCompletion completion, CancellationToken cancellationToken = default);
    [Alias("fail")] Task FailTrialAsync(TrialFailure failure, CancellationToken cancellationToken = default);
    /// <summary>A draining worker gives a running trial back; it is re-queued without counting as a failure.</summary>
    [Alias("release")] Task ReleaseTrialAsync(string trialId, int attempt, CancellationToken cancellationToken = default);
}

[GenerateSerializer, Immutable, Alias("SubmitResult")]
public sealed record SubmitResult(
    [property: Id(0)] bool Accepted,
    [property: Id(1)] string Message,
    [property: Id(2)] int TrialCount,
    [property: Id(3)] int AddedTrials,
    [property: Id(4)] SubmitOutcome Outcome = SubmitOutcome.Submitted,
    [property: Id(5)] string? SpecHash = null);

/// <summary>What a submission did. Every refusal is the user's to fix (the CLI exits 2).</summary>
[GenerateSerializer, Alias("SubmitOutcome")]
public enum SubmitOutcome
{
    /// <summary>A new sweep: every trial queued.</summary>
    Submitted,
    /// <summary>The same spec with a higher run_cap: the new trials queued.</summary>
    Extended,
    /// <summary>The same spec, nothing new to run.</summary>
    Unchanged,
    /// <summary>The file does not validate, or names another sweep.</summary>
    Invalid,
    /// <summary>A sweep of this name exists with a different spec (the message names each changed field).</summary>
    SpecChanged,
    /// <summary>The sweep was cancelled; its name is not reused.</summary>
    Cancelled,
}

[GenerateSerializer, Alias("SweepCommand")]
public enum SweepCommand { Pause, Resume, Cancel }

[GenerateSerializer, Alias("SweepState")]
public enum SweepState { NotFound, Running, Paused, Cancelled, Finished }

[GenerateSerializer, Alias("TrialState")]
public enum TrialState { Queued, Running, Succeeded, Failed, Pruned, Cancelled }

[GenerateSerializer, Immutable, Alias("SweepStatus")]
public sealed record SweepStatus(
    [property: Id(0)] string Name,
    [property: Id(1)] SweepState State,
    [property: Id(2)] int Total,
    [property: Id(3)] int Queued,
    [property: Id(4)] int Running,
    [property: Id(5)] int Succeeded,
    [property: Id(6)] int Failed,
    [property: Id(7)] int Pruned,
    [property: Id(8)] int Cancelled,
    [property: Id(9)] string Metric,
    [property: Id(10)] bool Maximize,
    [property: Id(11)] string? BestTrial,
    [property: Id(12)] double? BestMetric,
    [property: Id(13)] DateTimeOffset? StartedAt,
    [property: Id(14)] DateTimeOffset? FinishedAt,
    [property: Id(15)] long StepsDone)
{
    public int Done => Succeeded + Failed + Pruned + Cancelled;
    public Trials.MetricObjective Objective => new(Metric, Maximize);
    public bool IsTerminal => State is SweepState.Finished or SweepState.Cancelled;
}

[GenerateSerializer, Immutable, Alias("SweepSpecView")]
public sealed record SweepSpecView(
    [property: Id(0)] string YamlText,
    [property: Id(1)] string FileName,
    [property: Id(2)] string Model,
    [property: Id(3)] string Dataset,
    [property: Id(4)] string Metric,
    [property: Id(5)] bool Maximize,
    [property: Id(6)] IReadOnlyList<Trials.MetricObjective>? Objectives = null,
    [property: Id(7)] string? DisplayName = null,
    [property: Id(8)] string? BaseJson = null)
{
    public Trials.MetricObjective Objective => new(Metric, Maximize);

    /// <summary>Every objective the sweep was submitted with (`metrics:`), as journaled; the one metric when none were recorded.</summary>
    public IReadOnlyList<Trials.MetricObjective> AllObjectives => Objectives is { Count: > 0 } all ? all : [Objective];

    /// <summary>The sweep's name as its file wrote it, else the file's name.</summary>
    public string Title => DisplayName ?? Path.GetFileNameWithoutExtension(FileName);
}
