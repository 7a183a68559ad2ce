using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts.Leaderboards;
using Orchestrator.Grains.Journal;
using Orchestrator.Grains.Scheduling;
using Orchestrator.Storage;
using Orchestrator.Sweeps;

namespace Orchestrator.Grains.Sweeps;

/// <summary>
/// One sweep: hands its queued trials to workers, hears their progress, records results once, notices lost
/// workers. Every change is appended to the sweep's journal before the call returns; activation replays it.
/// Calls stay short: nothing here trains; the only artifacts it writes are the sweep's spec.yaml and manifest.json.
/// </summary>
public sealed class SweepGrain(
    IEventJournal journal,
    IArtifactStore artifacts,
    IOptions<HeartbeatOptions> options,
    TimeProvider time,
    ILogger<SweepGrain> logger) : Grain, ISweepGrain, ISweepPlanGrain, IRemindable
{
    /// <summary>
    /// A durable wake-up (Redis reminders in a cluster): after a whole-cluster restart an unfinished sweep activates by
    /// itself and resumes its lost-worker checks, even before any worker asks for work.
    /// </summary>
    private const string WatchdogReminder = "watchdog";
    private static readonly TimeSpan FinalManifestTimeout = TimeSpan.FromSeconds(10);
    private readonly SweepLedger _ledger = new();
    private readonly PackFormation _packs = new();
    private readonly HeartbeatOptions _options = options.Value;
    private IGrainTimer? _heartbeatTimer;
    private string Name => this.GetPrimaryKeyString();
    private string Stream => JournalStreams.Sweep(Name);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var records = await journal.ReadAllAsync(Stream, cancellationToken);
        foreach (var record in records)
            _ledger.Apply(LegacySweepEvents.Upgrade(JournalJson.Deserialize<SweepEvent>(record), _ledger.FileName));

        // Workers of running trials get a full timeout from now to report, whatever happened while this was inactive.
        var now = time.GetUtcNow();
        foreach (var trial in _ledger.Running)
            trial.LastHeartbeat = now;

        if (_ledger.State is SweepState.Running or SweepState.Paused)
        {
            await StartWatchingAsync();
            await GrainFactory.GetGrain<ISchedulerGrain>(0).SweepActiveAsync(Name, cancellationToken);
        }
        if (records.Count > 0)
            await RecordLeaderboardAsync(_ledger.Trials.Where(t => t.Result is not null).ToList(), cancellationToken);
    }

    public async Task<SubmitResult> SubmitAsync(SweepPlan plan, CancellationToken cancellationToken = default)
    {
        if (SweepPlanCheck.Problem(plan, Name) is { } problem)
            return Refused(SubmitOutcome.Invalid, problem);

        if (_ledger.Settings is null)
        {
            await AppendAsync([plan.Submitted(time.GetUtcNow())], cancellationToken);
            await WriteArtifactsAsync(cancellationToken);
            await StartWatchingAsync();
            await GrainFactory.GetGrain<ISchedulerGrain>(0).SweepActiveAsync(Name, cancellationToken);
            return Accepted(SubmitOutcome.Submitted, _ledger.Settings?.Search is { } search
                ? $"submitted: bayes (TPE) suggests up to {search.RunCap} trials as results arrive, the first {new Orchestrator.Sweeps.Search.TpeOptions().StartupTrials} drawn at random"
                : $"submitted {_ledger.Trials.Count} trials", _ledger.Trials.Count);
        }

        if (_ledger.State == SweepState.Cancelled)
            return Refused(SubmitOutcome.Cancelled, $"sweep '{Name}' was cancelled; its results stay readable. Submit it under another name to run it again.");
        var offered = plan.Spec;
        if (_ledger.Spec is { } recorded && recorded.Hash != offered.Hash)
            return Refused(SubmitOutcome.SpecChanged,
                $"a sweep named '{Name}' already exists with a different spec: {string.Join("; ", CanonicalSpec.Diff(recorded, offered))}. " +
                "Only raising run_cap can add to it; give the changed sweep another name.");
        var added = plan.Trials.Count(p => _ledger.Find(p.Id) is null);
        int? raisedCap = _ledger.Settings.Search is not null && plan.RunCap > _ledger.RunCap ? plan.RunCap : null;
        if (added == 0 && raisedCap is null)
        {
            await WriteArtifactsAsync(cancellationToken); // a retried submission whose first write failed still gets its files
            return Accepted(SubmitOutcome.Unchanged, $"already submitted ({_ledger.Trials.Count} trials); nothing to add", 0);
        }

        await AppendAsync([new SweepExtended(time.GetUtcNow(), plan.YamlText, plan.Trials, raisedCap)], cancellationToken);
        await WriteArtifactsAsync(cancellationToken);
        await StartWatchingAsync();
        await GrainFactory.GetGrain<ISchedulerGrain>(0).SweepActiveAsync(Name, cancellationToken);
        return Accepted(SubmitOutcome.Extended, raisedCap is { } cap ? $"run_cap raised to {cap}: up to {cap - _ledger.Suggested} more suggestions" : $"added {added} trials", added);
    }

    private SubmitResult Accepted(SubmitOutcome outcome, string message, int added) =>
        new(true, message, _ledger.Trials.Count, added, outcome, _ledger.Spec?.Hash);

    private SubmitResult Refused(SubmitOutcome outcome, string message) =>
        new(false, message, _ledger.Trials.Count, 0, outcome, _ledger.Spec?.Hash);

    /// <summary>`spec.yaml` and `manifest.json` of the artifact layout, from the journaled state: one writer for both, whether the sweep came by `run` or `submit`.</summary>
    private async Task WriteArtifactsAsync(CancellationToken cancellationToken)
    {
        await artifacts.WriteTextAsync(ArtifactPaths.Spec(Name), _ledger.YamlText ?? "", cancellationToken);
        await artifacts.WriteTextAsync(ArtifactPaths.Manifest(Name), SweepManifest.Json(Name, _ledger), cancellationToken);
    }

    public Task<SweepStatus> GetStatusAsync(CancellationToken cancellationToken = default) => Task.FromResult(BuildStatus());

    public Task<IReadOnlyList<TrialRecord>> GetTrialsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<TrialRecord>>(_ledger.Trials.Select(ToRecord).ToList());

    public Task<SweepSpecView?> GetSpecAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(_ledger.Settings is { } s
            ? new SweepSpecView(_ledger.YamlText!, _ledger.FileName!, s.Model, s.Dataset, s.Metric, s.Maximize, s.Objectives, s.DisplayName,
                s.Base is { } b ? b.GetRawText() : null)
            : null);

    public Task<TrialChanges> GetChangesAsync(long sinceVersion, CancellationToken cancellationToken = default) =>
        Task.FromResult(new TrialChanges(_ledger.Version, BuildStatus(),
            _ledger.ChangedSince(sinceVersion > _ledger.Version ? 0 : sinceVersion).Select(ToRecord).ToList()));

    public Task<TrialDetail?> GetTrialAsync(string trialId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_ledger.Find(trialId) is { } t
            ? new TrialDetail(ToRecord(t), t.Attempts.ToList(), HistoryOf(t), t.Checkpoints.ToList())
            : null);

    public Task<IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>>> GetCurvesAsync(IReadOnlyList<string> trialIds, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>>>(trialIds.Distinct().Take(100)
            .Select(_ledger.Find).OfType<TrialEntry>()
            .ToDictionary(t => t.Id, HistoryOf));

    /// <summary>The heard history, ending with the recorded result (its final metrics at its last step).</summary>
    private static IReadOnlyList<MetricPoint> HistoryOf(TrialEntry t) =>
        t.Result is { } r ? MetricHistory.EndingWith(t.History, r.Steps, r.Metrics) : t.History.ToList();

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
        if (_ledger.State != SweepState.Running || _ledger.Settings is not { } settings) return [];
        if (Unanswered(worker, maxTrials, settings) is { Count: > 0 } unanswered) return unanswered;
        var running = _ledger.Count(TrialState.Running);
        var room = Math.Min(maxTrials, settings.Parallel - running);
        if (room <= 0) return [];
        await SuggestAsync(room, cancellationToken);

        var freeMemory = worker.FreeMemoryBytes;
        var trials = new List<TrialEntry>();
        foreach (var trial in _ledger.Queued)
        {
            if (trials.Count == room) break;
            var memory = trial.Plan.MemoryBytes;
            if (worker.FreeMemoryBytes > 0 && memory > freeMemory) continue;
            freeMemory -= memory;
            trials.Add(trial);
        }
        return await LeaseTrialsAsync(trials, worker, settings, pack: null, cancellationToken);
    }

    public async Task<IReadOnlyList<TrialLease>> LeasePackAsync(WorkerSlot worker, int maxMembers, CancellationToken cancellationToken = default)
    {
        if (_ledger.State != SweepState.Running || _ledger.Settings is not { } settings) return [];
        if (settings.PackSetting.Mode == PackMode.Off) return await LeaseAsync(worker, 1, cancellationToken);
        if (Unanswered(worker, maxMembers, settings) is { Count: > 0 } unanswered) return unanswered;
        // A pack occupies one slot: `parallel` counts the slots the sweep's running trials are on.
        var slots = _ledger.Running.Select(t => t.Worker).Distinct(StringComparer.Ordinal).Count();
        if (slots >= settings.Parallel) return [];
        await SuggestAsync(Math.Min(maxMembers, settings.PackSetting.Size), cancellationToken);

        var members = _packs.Next(_ledger.Queued, settings, worker.FreeMemoryBytes, maxMembers);
        var pack = members.Count > 1 ? $"{members[0].Id}.{members[0].Attempt + 1}" : null;
        return await LeaseTrialsAsync(members, worker, settings, pack, cancellationToken);
    }

    /// <summary>
    /// A slot asks for work only when it is idle, so a trial the ledger still shows running on that slot is a lease
    /// whose reply never arrived (the sweep's silo died mid-call, or the call timed out and was retried): hand the same
    /// leases again (same attempts, same pack) instead of leasing the slot more and leaving these to wait out the
    /// heartbeat timeout and count one attempt more.
    /// </summary>
    private List<TrialLease> Unanswered(WorkerSlot worker, int max, SweepSettings settings)
    {
        var now = time.GetUtcNow();
        return _ledger.Running
            .Where(t => t.Worker == worker.WorkerId)
            .Take(max)
            .Select(t =>
            {
                t.LastHeartbeat = now;
                return LeaseOf(t, t.Attempt, settings, t.Pack);
            })
            .ToList();
    }

    /// <summary>Bayes: suggest now what the free slots will take, knowing every result so far; journaled before leasing.</summary>
    private async Task SuggestAsync(int room, CancellationToken cancellationToken)
    {
        if (!_ledger.MoreToSuggest || _ledger.Count(TrialState.Queued) >= room) return;
        var suggestions = BayesSuggestions.Next(_ledger, room - _ledger.Count(TrialState.Queued), time.GetUtcNow());
        if (suggestions.Count > 0) await AppendAsync(suggestions, cancellationToken);
        if (_ledger.Exhausted) await FinishIfDoneAsync(cancellationToken);
    }

    private async Task<IReadOnlyList<TrialLease>> LeaseTrialsAsync(IReadOnlyList<TrialEntry> trials, WorkerSlot worker, SweepSettings settings,
        string? pack, CancellationToken cancellationToken)
    {
        if (trials.Count == 0) return [];
        var now = time.GetUtcNow();
        var events = trials.Select(t => (SweepEvent)new TrialLeased(now, t.Id, t.Attempt + 1, worker.WorkerId, pack)).ToList();
        var attempts = trials.Select(t => t.Attempt + 1).ToList();
        await AppendAsync(events, cancellationToken);
        return trials.Select((t, i) => LeaseOf(t, attempts[i], settings, pack)).ToList();
    }

    private TrialLease LeaseOf(TrialEntry trial, int attempt, SweepSettings settings, string? pack = null) =>
        new(Name, trial.Id, attempt, trial.Plan.Kind, trial.Config, settings.BaseSpec,
            trial.Checkpoints.ToList(), trial.Plan.MemoryBytes, settings.Model, settings.Dataset, pack);

    public async Task<TrialDirective> ReportProgressAsync(TrialProgressReport report, CancellationToken cancellationToken = default)
    {
        var trial = _ledger.Find(report.TrialId);
        if (trial is null || trial.State != TrialState.Running || trial.Attempt != report.Attempt)
            return TrialDirective.Abandon; // a zombie: another attempt owns this trial, or it is over
        trial.LastHeartbeat = time.GetUtcNow();
        trial.Step = report.Step;
        trial.TotalSteps = report.TotalSteps;
        if (report.Metrics.Count > 0)
        {
            trial.Metrics = report.Metrics;
            trial.AddHistory(new MetricPoint(report.Step, report.Metrics));
        }
        _ledger.Touch(trial);

        if (_ledger.State == SweepState.Cancelled) return TrialDirective.Abandon;
        if (_ledger.State == SweepState.Paused) return TrialDirective.Release;
        if (report.IsEvaluation && _ledger.Settings is { EarlyStopping: not null } settings && report.Metrics.TryGetValue(settings.Metric, out var metric))
        {
            await AppendAsync([new TrialEvaluated(time.GetUtcNow(), trial.Id, report.Attempt, report.Evaluation, metric)], cancellationToken);
            if (_ledger.TakeUndecidedStop(time.GetUtcNow()) is { } decided) await AppendAsync([decided], cancellationToken);
        }
        return trial.PruneRequested ? TrialDirective.Prune : TrialDirective.Continue;
    }

    public async Task ReportCheckpointAsync(TrialCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        // A retried report (its first try half-done) is heard once.
        if (_ledger.Find(checkpoint.TrialId) is { IsTerminal: false } trial && !trial.Checkpoints.Contains(checkpoint))
            await AppendAsync([new TrialCheckpointed(time.GetUtcNow(), checkpoint.TrialId, checkpoint.Attempt, checkpoint.Location, checkpoint.Step)], cancellationToken);
    }

    public async Task<bool> CompleteTrialAsync(TrialCompletion completion, CancellationToken cancellationToken = default)
    {
        var trial = _ledger.Find(completion.TrialId);
        if (trial is null) return false;
        var recorded = !trial.IsTerminal; // first completion wins
        if (recorded)
            await AppendAsync([new TrialCompleted(time.GetUtcNow(), completion.TrialId, completion.Attempt, completion)], cancellationToken);
        // Also for a repeated completion: a worker retries when its first call failed half-way, and the leaderboard
        // upsert is idempotent. Queued, not awaited: the sweep's calls are one at a time, and waiting here on two more
        // grains for every trial held every other worker's lease and report (the journal, not the board, is the record).
        QueueLeaderboard(trial);
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
        var running = _ledger.Running.ToList();
        var lost = running.Where(t => t.LastHeartbeat < deadline).ToList();
        // A pack trains on one slot: when one member's worker is lost, every member of that pack on it is. Each member
        // beats on its own, so the last beats land a little apart; re-queued one check apart, the first members were
        // leased again as a smaller pack and the last trained alone.
        var lostPacks = lost.Where(t => t.Pack is not null).Select(t => (t.Worker, t.Pack)).ToHashSet();
        lost.AddRange(running.Where(t => t.Pack is not null && t.LastHeartbeat >= deadline && lostPacks.Contains((t.Worker, t.Pack))));
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
        // A finished sweep's leaderboard is complete: whoever sees it finished can read every result there.
        await RecordQueuedLeaderboardAsync(cancellationToken);
        await AppendAsync([new SweepStateChanged(time.GetUtcNow(), SweepState.Finished)], cancellationToken);
        await GrainFactory.GetGrain<ISchedulerGrain>(0).SweepInactiveAsync(Name, cancellationToken);
        await StopWatchdogAsync();
        // The manifest now with every result. Best effort and bounded: this runs inside a worker's completion call, and
        // the journal, not this file, is the record of the results (the submission's manifest stays if it fails).
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(FinalManifestTimeout);
        try
        {
            await WriteArtifactsAsync(bounded.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning("Sweep {Sweep}: final manifest not written ({Error})", Name, e.Message);
        }
    }

    /// <summary>Journal first, then apply: a change is visible only once it is durable.</summary>
    private async Task AppendAsync(IReadOnlyList<SweepEvent> events, CancellationToken cancellationToken)
    {
        await journal.AppendAsync(Stream, events.Select(e => JournalJson.Serialize(e)).ToList(), cancellationToken);
        foreach (var e in events) _ledger.Apply(e);
    }

    /// <summary>Results not yet on the leaderboards, recorded in batches by one background recording at a time.</summary>
    private readonly Dictionary<string, TrialEntry> _unrecorded = new(StringComparer.Ordinal);
    private Task _recording = Task.CompletedTask;

    private void QueueLeaderboard(TrialEntry trial)
    {
        _unrecorded[trial.Id] = trial;
        if (_recording.IsCompleted) _recording = RecordInBackgroundAsync();
    }

    /// <summary>
    /// Runs on the grain's scheduler between its calls. A failed batch goes back to the queue for the next completion
    /// or the finish (and a reactivation records every result again), so nothing is lost by a leaderboard outage.
    /// </summary>
    private async Task RecordInBackgroundAsync()
    {
        await Task.Yield();
        while (_unrecorded.Count > 0)
        {
            var batch = _unrecorded.Values.ToList();
            _unrecorded.Clear();
            try
            {
                await RecordLeaderboardAsync(batch, CancellationToken.None);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                foreach (var t in batch) _unrecorded.TryAdd(t.Id, t);
                logger.LogWarning("Sweep {Sweep}: {Count} results not yet on the leaderboard ({Error}); retried with the next", Name, batch.Count, e.Message);
                return;
            }
        }
    }

    /// <summary>Waits for the background recording, then records what is still queued; throws when that fails.</summary>
    private async Task RecordQueuedLeaderboardAsync(CancellationToken cancellationToken)
    {
        await _recording;
        if (_unrecorded.Count == 0) return;
        var batch = _unrecorded.Values.ToList();
        await RecordLeaderboardAsync(batch, cancellationToken);
        foreach (var t in batch) _unrecorded.Remove(t.Id);
    }

    private async Task RecordLeaderboardAsync(IReadOnlyList<TrialEntry> trials, CancellationToken cancellationToken)
    {
        if (_ledger.Settings is not { } settings) return;
        var entries = trials.Where(t => t.Result is not null && t.State is TrialState.Succeeded or TrialState.Pruned)
            .Select(t => new LeaderboardEntry(ToRecord(t), settings.Objective, time.GetUtcNow()))
            .ToList();
        if (entries.Count == 0) return;
        await GrainFactory.GetGrain<ILeaderboardGrain>(ILeaderboardGrain.SweepKey(Name)).RecordAsync(entries, cancellationToken);
        await GrainFactory.GetGrain<ILeaderboardGrain>(ILeaderboardGrain.GlobalKey(settings.Model, settings.Dataset, settings.Metric))
            .RecordAsync(entries, cancellationToken);
    }

    private SweepStatus BuildStatus()
    {
        var trials = _ledger.Trials;
        var settings = _ledger.Settings;
        var maximize = settings?.Maximize == true;
        var best = settings?.Objective.BestTrial(trials.Where(t => t.State is TrialState.Succeeded or TrialState.Pruned), Score, t => t.State == TrialState.Pruned, t => t.Id);
        var bestValue = best is null ? null : Score(best);
        double? Score(TrialEntry t) => t.Result?.Metrics.TryGetValue(settings!.Metric, out var v) == true ? v : null;
        int Count(TrialState s) => _ledger.Count(s);
        return new SweepStatus(Name, _ledger.State, trials.Count, Count(TrialState.Queued), Count(TrialState.Running),
            Count(TrialState.Succeeded), Count(TrialState.Failed), Count(TrialState.Pruned), Count(TrialState.Cancelled),
            settings?.Metric ?? "", maximize, best?.Id, bestValue, _ledger.StartedAt, _ledger.FinishedAt,
            trials.Sum(t => t.Result?.Steps ?? (t.State == TrialState.Running ? t.Step : 0)));
    }

    private TrialRecord ToRecord(TrialEntry t) => new(Name, t.Id, t.Plan.Kind, t.Plan.Parameters, t.ConfigValues, t.State,
        t.Attempt, t.Worker, t.Step, t.TotalSteps, t.Metrics, t.Error, t.Result?.TrainableParameters ?? 0,
        t.Result?.TotalParameters ?? 0, t.Result?.ElapsedSeconds ?? 0, t.Result?.AdapterSha256, t.Pack,
        t.Result?.PeakMemoryBytes);
}
