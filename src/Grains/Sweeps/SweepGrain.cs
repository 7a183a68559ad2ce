using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts.Leaderboards;
using Orchestrator.Grains.Journal;
using Orchestrator.Grains.Scheduling;
using Orchestrator.Sweeps;

namespace Orchestrator.Grains.Sweeps;

/// <summary>
/// One sweep: hands its queued trials to workers, hears their progress, records results once, notices lost
/// workers. Every change is appended to the sweep's journal before the call returns; activation replays it.
/// Calls stay short: nothing here trains or touches artifacts.
/// </summary>
public sealed class SweepGrain(
    IEventJournal journal,
    IOptions<HeartbeatOptions> options,
    TimeProvider time,
    ILogger<SweepGrain> logger) : Grain, ISweepGrain, IRemindable
{
    /// <summary>
    /// A durable wake-up (Redis reminders in a cluster): after a whole-cluster restart an unfinished sweep activates by
    /// itself and resumes its lost-worker checks, even before any worker asks for work.
    /// </summary>
    private const string WatchdogReminder = "watchdog";
    private readonly SweepLedger _ledger = new();
    private readonly HeartbeatOptions _options = options.Value;
    private IGrainTimer? _heartbeatTimer;
    private string Name => this.GetPrimaryKeyString();
    private string Stream => JournalStreams.Sweep(Name);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var records = await journal.ReadAllAsync(Stream, cancellationToken);
        foreach (var record in records)
            _ledger.Apply(JournalJson.Deserialize<SweepEvent>(record));

        // Workers of running trials get a full timeout from now to report, whatever happened while this was inactive.
        var now = time.GetUtcNow();
        foreach (var trial in _ledger.Trials.Where(t => t.State == TrialState.Running))
            trial.LastHeartbeat = now;

        if (_ledger.State is SweepState.Running or SweepState.Paused)
        {
            await StartWatchingAsync();
            await GrainFactory.GetGrain<ISchedulerGrain>(0).SweepActiveAsync(Name, cancellationToken);
        }
        if (records.Count > 0)
            await RecordLeaderboardAsync(_ledger.Trials.Where(t => t.Result is not null).ToList(), cancellationToken);
    }

    public async Task<SubmitResult> SubmitAsync(SweepSubmission submission, CancellationToken cancellationToken = default)
    {
        SweepSpec spec;
        IReadOnlyList<TrialPlan> plans;
        try
        {
            spec = SweepFile.Parse(submission.YamlText, submission.FileName);
            plans = SweepExpander.Expand(spec);
        }
        catch (SweepValidationException e)
        {
            return new SubmitResult(false, e.Message, 0, 0);
        }
        if (spec.Name != Name)
            return new SubmitResult(false, $"the sweep file names '{spec.Name}', not '{Name}'", 0, 0);

        if (_ledger.Spec is null)
        {
            await AppendAsync([new SweepSubmitted(time.GetUtcNow(), submission.YamlText, submission.FileName)], cancellationToken);
            await StartWatchingAsync();
            await GrainFactory.GetGrain<ISchedulerGrain>(0).SweepActiveAsync(Name, cancellationToken);
            return new SubmitResult(true, $"submitted {plans.Count} trials", plans.Count, plans.Count);
        }

        if (_ledger.State == SweepState.Cancelled)
            return new SubmitResult(false, $"sweep '{Name}' was cancelled; its results stay readable. Submit it under another name to run it again.",
                _ledger.Trials.Count, 0);
        var known = _ledger.Trials.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        var offered = plans.Select(p => p.TrialId).ToHashSet(StringComparer.Ordinal);
        if (!known.IsSubsetOf(offered))
            return new SubmitResult(false,
                $"a sweep named '{Name}' already exists with a different spec; only raising run_cap can add to it. " +
                "Give the new sweep another name.", _ledger.Trials.Count, 0);
        var added = offered.Count - known.Count;
        if (added == 0)
            return new SubmitResult(true, $"already submitted ({_ledger.Trials.Count} trials); nothing to add", _ledger.Trials.Count, 0);

        await AppendAsync([new SweepExtended(time.GetUtcNow(), submission.YamlText)], cancellationToken);
        await StartWatchingAsync();
        await GrainFactory.GetGrain<ISchedulerGrain>(0).SweepActiveAsync(Name, cancellationToken);
        return new SubmitResult(true, $"added {added} trials", _ledger.Trials.Count, added);
    }

    public Task<SweepStatus> GetStatusAsync(CancellationToken cancellationToken = default) => Task.FromResult(BuildStatus());

    public Task<IReadOnlyList<TrialRecord>> GetTrialsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<TrialRecord>>(_ledger.Trials.Select(ToRecord).ToList());

    public Task<SweepSpecView?> GetSpecAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(_ledger.Spec is { } s
            ? new SweepSpecView(_ledger.YamlText!, _ledger.FileName!, s.Task.Model, s.Task.Dataset, s.Metric.Name, s.Metric.Goal == MetricGoal.Maximize)
            : null);

    public async Task<SweepStatus> ControlAsync(SweepCommand command, CancellationToken cancellationToken = default)
    {
        var next = (command, _ledger.State) switch
        {
            (SweepCommand.Pause, SweepState.Running) => SweepState.Paused,
            (SweepCommand.Resume, SweepState.Paused) => SweepState.Running,
            (SweepCommand.Cancel, SweepState.Running or SweepState.Paused) => SweepState.Cancelled,
            _ => (SweepState?)null,
        };
        if (next is { } state)
        {
            await AppendAsync([new SweepStateChanged(time.GetUtcNow(), state)], cancellationToken);
            var scheduler = GrainFactory.GetGrain<ISchedulerGrain>(0);
            if (state == SweepState.Running) await scheduler.SweepActiveAsync(Name, cancellationToken);
            if (state == SweepState.Cancelled)
            {
                await scheduler.SweepInactiveAsync(Name, cancellationToken);
                await StopWatchdogAsync();
            }
        }
        return BuildStatus();
    }

    public async Task<IReadOnlyList<TrialLease>> LeaseAsync(WorkerSlot worker, int maxTrials, CancellationToken cancellationToken = default)
    {
        if (_ledger.State != SweepState.Running || _ledger.Spec is not { } spec) return [];
        var running = _ledger.Count(TrialState.Running);
        var room = Math.Min(maxTrials, spec.Parallel - running);
        if (room <= 0) return [];

        var now = time.GetUtcNow();
        var freeMemory = worker.FreeMemoryBytes;
        var leases = new List<TrialLease>();
        var events = new List<SweepEvent>();
        foreach (var trial in _ledger.Queued)
        {
            if (leases.Count == room) break;
            var memory = TrialMemoryEstimates.BytesFor(trial.Plan.Config);
            if (worker.FreeMemoryBytes > 0 && memory > freeMemory) continue;
            freeMemory -= memory;
            var attempt = trial.Attempt + 1;
            events.Add(new TrialLeased(now, trial.Id, attempt, worker.WorkerId));
            leases.Add(new TrialLease(Name, trial.Id, attempt, trial.Plan.Kind.Name(),
                JsonSerializer.Serialize(trial.Plan.Config), JsonSerializer.Serialize(spec.Task.Base),
                trial.Checkpoints.ToList(), memory, spec.Task.Model, spec.Task.Dataset));
        }
        if (events.Count > 0) await AppendAsync(events, cancellationToken);
        return leases;
    }

    public async Task<TrialDirective> ReportProgressAsync(TrialProgressReport report, CancellationToken cancellationToken = default)
    {
        var trial = _ledger.Find(report.TrialId);
        if (trial is null || trial.State != TrialState.Running || trial.Attempt != report.Attempt)
            return TrialDirective.Abandon; // a zombie: another attempt owns this trial, or it is over
        trial.LastHeartbeat = time.GetUtcNow();
        trial.Step = report.Step;
        trial.TotalSteps = report.TotalSteps;
        if (report.Metrics.Count > 0) trial.Metrics = report.Metrics;

        if (_ledger.State == SweepState.Cancelled) return TrialDirective.Abandon;
        if (_ledger.State == SweepState.Paused) return TrialDirective.Release;
        if (report.IsEvaluation && _ledger.Spec is { } spec && report.Metrics.TryGetValue(spec.Metric.Name, out var metric)
            && spec.EarlyTerminate is not null)
            await AppendAsync([new TrialEvaluated(time.GetUtcNow(), trial.Id, report.Attempt, report.Evaluation, metric)], cancellationToken);
        return trial.PruneRequested ? TrialDirective.Prune : TrialDirective.Continue;
    }

    public async Task ReportCheckpointAsync(TrialCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        if (_ledger.Find(checkpoint.TrialId) is { IsTerminal: false })
            await AppendAsync([new TrialCheckpointed(time.GetUtcNow(), checkpoint.TrialId, checkpoint.Attempt, checkpoint.Location, checkpoint.Step)], cancellationToken);
    }

    public async Task<bool> CompleteTrialAsync(TrialCompletion completion, CancellationToken cancellationToken = default)
    {
        var trial = _ledger.Find(completion.TrialId);
        if (trial is null) return false;
        var recorded = !trial.IsTerminal; // first completion wins
        if (recorded)
            await AppendAsync([new TrialCompleted(time.GetUtcNow(), completion.TrialId, completion.Attempt, completion)], cancellationToken);
        // Also for a repeated completion: a worker retries when its first call failed half-way (the leaderboard grain's
        // silo died after the ledger had the result), and the leaderboard upsert is idempotent.
        await RecordLeaderboardAsync([trial], cancellationToken);
        await FinishIfDoneAsync(cancellationToken);
        return recorded;
    }

    public async Task FailTrialAsync(TrialFailure failure, CancellationToken cancellationToken = default)
    {
        if (_ledger.Find(failure.TrialId) is not { State: TrialState.Running } trial || trial.Attempt != failure.Attempt) return;
        logger.LogWarning("Sweep {Sweep} trial {Trial} attempt {Attempt} failed: {Error}", Name, failure.TrialId, failure.Attempt, failure.Error);
        await AppendAsync([new TrialFailed(time.GetUtcNow(), failure.TrialId, failure.Attempt, failure.Error, failure.Retryable)], cancellationToken);
        await FinishIfDoneAsync(cancellationToken);
    }

    public async Task ReleaseTrialAsync(string trialId, int attempt, CancellationToken cancellationToken = default)
    {
        if (_ledger.Find(trialId) is { State: TrialState.Running } trial && trial.Attempt == attempt)
            await AppendAsync([new TrialRequeued(time.GetUtcNow(), trialId, attempt, "released by its worker")], cancellationToken);
    }

    public Task ReceiveReminder(string reminderName, Orleans.Runtime.TickStatus status) =>
        _ledger.State is SweepState.Finished or SweepState.Cancelled ? StopWatchdogAsync() : Task.CompletedTask; // activation did the rest

    private async Task StartWatchingAsync()
    {
        StartHeartbeatChecks();
        try
        {
            await this.RegisterOrUpdateReminder(WatchdogReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Workers polling the scheduler also bring the sweep back; the reminder only makes it independent of them.
            logger.LogWarning("Sweep {Sweep}: watchdog reminder not registered ({Error})", Name, e.Message);
        }
    }

    private async Task StopWatchdogAsync()
    {
        try
        {
            if (await this.GetReminder(WatchdogReminder) is { } reminder) await this.UnregisterReminder(reminder);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogDebug("Sweep {Sweep}: watchdog reminder not removed ({Error})", Name, e.Message);
        }
    }

    private void StartHeartbeatChecks()
    {
        _heartbeatTimer ??= this.RegisterGrainTimer(CheckHeartbeatsAsync,
            new GrainTimerCreationOptions(_options.HeartbeatCheckInterval, _options.HeartbeatCheckInterval) { KeepAlive = true, Interleave = false });
    }

    private async Task CheckHeartbeatsAsync(CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() - _options.HeartbeatTimeout;
        var lost = _ledger.Trials.Where(t => t.State == TrialState.Running && t.LastHeartbeat < deadline).ToList();
        if (lost.Count > 0)
        {
            foreach (var t in lost)
                logger.LogWarning("Sweep {Sweep} trial {Trial}: worker {Worker} silent for {Timeout}; re-queued", Name, t.Id, t.Worker, _options.HeartbeatTimeout);
            await AppendAsync(lost.Select(t => (SweepEvent)new TrialRequeued(time.GetUtcNow(), t.Id, t.Attempt,
                $"worker {t.Worker} lost: no heartbeat for {_options.HeartbeatTimeout.TotalSeconds:0}s")).ToList(), cancellationToken);
        }
        if (_ledger.State is SweepState.Finished or SweepState.Cancelled)
        {
            _heartbeatTimer?.Dispose();
            _heartbeatTimer = null;
        }
    }

    private async Task FinishIfDoneAsync(CancellationToken cancellationToken)
    {
        if (_ledger.State != SweepState.Running || !_ledger.AllTerminal) return;
        await AppendAsync([new SweepStateChanged(time.GetUtcNow(), SweepState.Finished)], cancellationToken);
        await GrainFactory.GetGrain<ISchedulerGrain>(0).SweepInactiveAsync(Name, cancellationToken);
        await StopWatchdogAsync();
    }

    /// <summary>Journal first, then apply: a change is visible only once it is durable.</summary>
    private async Task AppendAsync(IReadOnlyList<SweepEvent> events, CancellationToken cancellationToken)
    {
        await journal.AppendAsync(Stream, events.Select(e => JournalJson.Serialize(e)).ToList(), cancellationToken);
        foreach (var e in events) _ledger.Apply(e);
    }

    private async Task RecordLeaderboardAsync(IReadOnlyList<TrialEntry> trials, CancellationToken cancellationToken)
    {
        if (_ledger.Spec is not { } spec) return;
        var entries = trials.Where(t => t.Result is not null && t.State is TrialState.Succeeded or TrialState.Pruned)
            .Select(t => new LeaderboardEntry(ToRecord(t), Objective(spec), time.GetUtcNow()))
            .ToList();
        if (entries.Count == 0) return;
        await GrainFactory.GetGrain<ILeaderboardGrain>(ILeaderboardGrain.SweepKey(Name)).RecordAsync(entries, cancellationToken);
        await GrainFactory.GetGrain<ILeaderboardGrain>(ILeaderboardGrain.GlobalKey(spec.Task.Model, spec.Task.Dataset, spec.Metric.Name))
            .RecordAsync(entries, cancellationToken);
    }

    private SweepStatus BuildStatus()
    {
        var trials = _ledger.Trials;
        var spec = _ledger.Spec;
        var maximize = spec?.Metric.Goal == MetricGoal.Maximize;
        var best = spec is null ? null : Objective(spec).Best(trials.Where(t => t.State == TrialState.Succeeded), Score, t => t.Id);
        var bestValue = best is null ? null : Score(best);
        double? Score(TrialEntry t) => t.Result?.Metrics.TryGetValue(spec!.Metric.Name, out var v) == true ? v : null;
        int Count(TrialState s) => _ledger.Count(s);
        return new SweepStatus(Name, _ledger.State, trials.Count, Count(TrialState.Queued), Count(TrialState.Running),
            Count(TrialState.Succeeded), Count(TrialState.Failed), Count(TrialState.Pruned), Count(TrialState.Cancelled),
            spec?.Metric.Name ?? "", maximize, best?.Id, bestValue, _ledger.StartedAt, _ledger.FinishedAt,
            trials.Sum(t => t.Result?.Steps ?? (t.State == TrialState.Running ? t.Step : 0)));
    }

    private static MetricObjective Objective(SweepSpec spec) => new(spec.Metric.Name, spec.Metric.Goal == MetricGoal.Maximize);

    private TrialRecord ToRecord(TrialEntry t) => new(Name, t.Id, t.Plan.Kind, t.Plan.Parameters, ConfigValues(t.Plan), t.State,
        t.Attempt, t.Worker, t.Step, t.TotalSteps, t.Metrics, t.Error, t.Result?.TrainableParameters ?? 0,
        t.Result?.TotalParameters ?? 0, t.Result?.ElapsedSeconds ?? 0, t.Result?.AdapterSha256);

    /// <summary>Every trainer option of a plan, typed, under the sweep file's keys.</summary>
    private static IReadOnlyDictionary<string, ParameterValue> ConfigValues(TrialPlan plan) =>
        JsonSerializer.SerializeToNode(plan.Config)!.AsObject()
            .Where(kv => kv.Value is not null)
            .ToDictionary(kv => kv.Key, kv => ParameterValue.FromJson(kv.Value!), StringComparer.Ordinal);
}
