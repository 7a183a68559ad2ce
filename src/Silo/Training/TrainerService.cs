using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Silo.Hosting;
using Orchestrator.Silo.Telemetry;
using Orchestrator.Storage;
using Orchestrator.Trainer.Packing;
using Orchestrator.Trainer.Training;
using Orleans.Runtime;

namespace Orchestrator.Silo.Training;

/// <summary>
/// The silo's workers: one loop per slot leases a trial, or a pack of trials, from the scheduler, trains it
/// (<see cref="AttemptLauncher"/>), stores each trial's files (<see cref="TrialArtifacts"/>) and reports how each ended
/// (<see cref="SweepReports"/>), beating every trial's heartbeat meanwhile (<see cref="WorkerHeartbeats"/>). On
/// shutdown it stops leasing, tells running trials to stop, and hands them back so another silo resumes them from
/// their checkpoints.
/// </summary>
public sealed class TrainerService(
    IGrainFactory grains,
    AttemptLauncher training,
    TrialArtifacts artifacts,
    SweepReports reports,
    WorkerHeartbeats heartbeats,
    GrainCallResilience resilience,
    IArtifactStore store,
    SiloHostOptions options,
    ILocalSiloDetails silo,
    SiloMetrics metrics,
    IHostApplicationLifetime lifetime,
    ILogger<TrainerService> logger) : BackgroundService, IHostedLifecycleService
{
    private readonly ConcurrentDictionary<int, IReadOnlyList<AttemptReporter>> _running = new();
    private volatile bool _draining;

    /// <summary>
    /// The drain runs first, before any hosted service stops: the HTTP server still answers (/health/ready says
    /// "stopping", /health/live stays 200, so a long drain checkpoint is not cut short by a failing liveness probe) and
    /// the silo is still in its cluster for the hand-back.
    /// </summary>
    public Task StoppingAsync(CancellationToken cancellationToken) => DrainAsync(cancellationToken);

    public override Task StopAsync(CancellationToken cancellationToken) => DrainAsync(cancellationToken);

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        // A SIGTERM has already said "stopping"; a host stopped by its owner (StopAsync) says it here, before the drain,
        // so /health/ready answers 503 throughout it either way.
        lifetime.StopApplication();
        _draining = true;
        foreach (var trial in _running.Values.SelectMany(t => t)) trial.Release();
        await base.StopAsync(cancellationToken);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Slots == 0) return;
        await Task.WhenAll(Enumerable.Range(0, options.Slots).Select(slot => RunSlotAsync(slot, stoppingToken)));
    }

    private async Task RunSlotAsync(int slot, CancellationToken stoppingToken)
    {
        var workerId = $"{silo.Name}/{slot}";
        var worker = new WorkerSlot(workerId, silo.Name, options.Device, options.MemoryPerSlot);
        var scheduler = grains.GetGrain<ISchedulerGrain>(0);
        var idle = TimeSpan.FromMilliseconds(50);
        var lastReport = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested && !_draining)
        {
            if (DateTimeOffset.UtcNow - lastReport >= WorkerHeartbeats.Interval)
            {
                // Throttled: `workers` may be a couple of seconds stale, in exchange for no extra call per trial.
                await heartbeats.ReportAsync(workerId, null, _draining);
                lastReport = DateTimeOffset.UtcNow;
            }
            IReadOnlyList<TrialLease> leases;
            try
            {
                // While the cluster is unreachable or restarting, the pipeline waits and asks again, for as long as it takes.
                leases = await resilience.ExecuteAsync($"worker {workerId}: lease", ct => scheduler.LeasePackAsync(worker, training.MaxPack, ct),
                    stoppingToken, GrainCallResilience.Unbounded);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Not transient (a bad argument): retrying at once would spin; the slot must not die either.
                logger.LogError("Worker {Worker}: leasing failed ({Error})", workerId, e.Message);
                try { await Task.Delay(WorkerHeartbeats.Interval, stoppingToken); } catch (OperationCanceledException) { break; }
                continue;
            }
            if (leases.Count == 0)
            {
                try { await Task.Delay(idle, stoppingToken); } catch (OperationCanceledException) { break; }
                idle = TimeSpan.FromMilliseconds(Math.Min(1000, idle.TotalMilliseconds * 2));
                continue;
            }
            idle = TimeSpan.FromMilliseconds(50);
            try
            {
                if (leases.Count == 1) await RunTrialAsync(slot, workerId, leases[0]);
                else await RunPackAsync(slot, workerId, leases);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The sweep never heard (its reports ran out of budget): the missed heartbeats hand the trials back.
                logger.LogError(e, "Worker {Worker}: trial {Trial} attempt {Attempt} ended unreported", workerId, leases[0].TrialId, leases[0].Attempt);
            }
        }
    }

    private async Task RunTrialAsync(int slot, string workerId, TrialLease lease)
    {
        var trial = new AttemptReporter(lease, grains.GetGrain<ISweepGrain>(lease.Sweep), reports, store, logger, options.ProgressInterval);
        _running[slot] = [trial];
        if (_draining) trial.Release();
        metrics.TrialStarted();
        var work = training.WorkFolder(lease);
        using var beating = new CancellationTokenSource();
        // Heartbeats go on while the files upload and the result is reported: a slow store or a sweep grain
        // moving to another silo must not make a finished trial look lost.
        var beats = heartbeats.BeatWhileTrainingAsync(workerId, trial, () => _draining, beating.Token);
        try
        {
            TrainingOutcome outcome;
            try
            {
                outcome = await training.TrainAsync(trial, work);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                await FailedAsync(trial, e);
                return;
            }
            await FinishAsync(trial, outcome, work);
        }
        finally
        {
            await beating.CancelAsync();
            await beats;
            _running.TryRemove(slot, out _);
            AttemptLauncher.TryDelete(work);
        }
    }

    /// <summary>
    /// A pack: every member has its own running trial (heartbeat, directive, reports), trains through one frozen base,
    /// and ends on its own: stored and reported, failed, released or abandoned exactly as it would alone.
    /// </summary>
    private async Task RunPackAsync(int slot, string workerId, IReadOnlyList<TrialLease> leases)
    {
        var trials = leases.Select(l => new AttemptReporter(l, grains.GetGrain<ISweepGrain>(l.Sweep), reports, store, logger, options.ProgressInterval)).ToList();
        _running[slot] = trials;
        if (_draining) foreach (var t in trials) t.Release();
        foreach (var _ in trials) metrics.TrialStarted();
        var works = leases.Select(training.WorkFolder).ToList();
        var packId = leases[0].Pack ?? $"{leases[0].TrialId}.{leases[0].Attempt}";
        logger.LogInformation("Worker {Worker}: pack {Pack} of {Count} trials ({Trials})", workerId, packId, leases.Count,
            string.Join(", ", leases.Select(l => l.TrialId)));
        using var beating = new CancellationTokenSource();
        var beats = trials.Select((t, i) => heartbeats.BeatWhileTrainingAsync(workerId, t, () => _draining, beating.Token, reportsWorker: i == 0)).ToList();
        try
        {
            IReadOnlyList<PackMemberOutcome> outcomes;
            try
            {
                outcomes = await training.TrainPackAsync(trials, works, packId);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The pack could not start (its base or dataset failed to load): every member fails as it would alone.
                foreach (var t in trials) await FailedAsync(t, e);
                return;
            }
            for (var i = 0; i < trials.Count; i++)
            {
                try
                {
                    if (outcomes[i].Error is { } error) await FailedAsync(trials[i], error);
                    else await FinishAsync(trials[i], outcomes[i].Outcome!, works[i]);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // One member's report ran out of budget: its missed heartbeats hand it back; the others still report.
                    logger.LogError(e, "Worker {Worker}: trial {Trial} attempt {Attempt} ended unreported", workerId, leases[i].TrialId, leases[i].Attempt);
                }
            }
        }
        finally
        {
            await beating.CancelAsync();
            await Task.WhenAll(beats);
            _running.TryRemove(slot, out _);
            foreach (var work in works) AttemptLauncher.TryDelete(work);
        }
    }

    private async Task FailedAsync(AttemptReporter trial, Exception e)
    {
        var lease = trial.Lease;
        metrics.TrialFailed();
        // A retryable failure is the silo's problem: its stack helps an operator. One that is not comes from the
        // trial itself (a bad config, a diverging loss): the reason is the whole story, and the sweep shows it.
        if (TrialFailures.IsRetryable(e))
            logger.LogWarning(e, "Trial {Trial} attempt {Attempt} failed (retryable)", lease.TrialId, lease.Attempt);
        else
            logger.LogWarning("Trial {Trial} attempt {Attempt} failed (not retryable): {Reason}", lease.TrialId, lease.Attempt, TrialFailures.Describe(e));
        if (trial.Directive != TrialDirective.Abandon) await StoreHistoryAsync(trial, null);
        if (trial.Directive == TrialDirective.Continue) await reports.FailAsync(lease, e);
        else if (trial.Directive == TrialDirective.Release) await reports.ReleaseAsync(lease);
    }

    /// <summary>metrics.jsonl is the curve's copy, not the result: a store that fails here costs the curve, never the trial.</summary>
    private async Task StoreHistoryAsync(AttemptReporter trial, (long, IReadOnlyDictionary<string, double>)? result)
    {
        try
        {
            await trial.StoreHistoryAsync(result, CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning("Trial {Trial}: metric history not stored ({Error})", trial.Lease.TrialId, e.Message);
        }
    }

    private async Task FinishAsync(AttemptReporter trial, TrainingOutcome outcome, string work)
    {
        var lease = trial.Lease;
        switch (trial.Directive)
        {
            case TrialDirective.Abandon:
                return;
            case TrialDirective.Release:
                await StoreHistoryAsync(trial, null);
                await reports.ReleaseAsync(lease);
                return;
        }
        await StoreHistoryAsync(trial, (outcome.Steps, outcome.Metrics));
        var stored = await artifacts.UploadAsync(lease, AttemptLauncher.OutputFolder(work), CancellationToken.None);
        var completion = new TrialCompletion(lease.TrialId, lease.Attempt, outcome.Metrics, outcome.TrainableParameters,
            outcome.TotalParameters, outcome.Steps, outcome.Elapsed.TotalSeconds, trial.Directive == TrialDirective.Prune,
            stored.ResultSha256, stored.AdapterSha256, outcome.PeakMemoryBytes);
        await reports.CompleteAsync(lease, completion);
        metrics.TrialFinished(outcome.Steps);
    }
}
