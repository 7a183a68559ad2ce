using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts.Workers;
using Orchestrator.Silo.Hosting;
using Orchestrator.Silo.Telemetry;
using Orchestrator.Storage;
using Orchestrator.Trainer.Training;
using Orleans.Runtime;

namespace Orchestrator.Silo.Training;

/// <summary>
/// The silo's workers: one loop per slot asks the scheduler for a trial, trains it on a dedicated thread (never
/// on an Orleans scheduler thread), stores its files, and reports the result to the sweep. On shutdown it stops
/// asking, tells running trials to stop, and hands them back so another silo resumes them from their checkpoint.
/// </summary>
public sealed class TrainerService(
    IGrainFactory grains,
    ITrialRunner runner,
    IArtifactStore store,
    SiloHostOptions options,
    ILocalSiloDetails silo,
    SiloMetrics metrics,
    ILogger<TrainerService> logger) : BackgroundService
{
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<int, RunningTrial> _running = new();
    private volatile bool _draining;

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        foreach (var trial in _running.Values) trial.Release();
        await base.StopAsync(cancellationToken);
    }

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
            try
            {
                if (DateTimeOffset.UtcNow - lastReport >= HeartbeatInterval)
                {
                    // Throttled: `workers` may be a couple of seconds stale, in exchange for no extra call per trial.
                    await ReportWorkerAsync(workerId, null);
                    lastReport = DateTimeOffset.UtcNow;
                }
                var leases = await scheduler.LeaseAsync(worker, 1, stoppingToken);
                if (leases.Count == 0)
                {
                    await Task.Delay(idle, stoppingToken);
                    idle = TimeSpan.FromMilliseconds(Math.Min(1000, idle.TotalMilliseconds * 2));
                    continue;
                }
                idle = TimeSpan.FromMilliseconds(50);
                await RunTrialAsync(slot, workerId, leases[0]);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The cluster is unreachable or restarting: wait and ask again.
                logger.LogWarning("Worker {Worker}: {Error}; retrying", workerId, e.Message);
                try { await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken); } catch (OperationCanceledException) { break; }
            }
        }
    }

    private async Task RunTrialAsync(int slot, string workerId, TrialLease lease)
    {
        var sweep = grains.GetGrain<ISweepGrain>(lease.Sweep);
        var trial = new RunningTrial(lease, sweep, store, logger);
        _running[slot] = trial;
        if (_draining) trial.Release();
        metrics.TrialStarted();
        var work = Path.Combine(options.DataDir, "work", lease.Sweep, lease.TrialId, $"attempt-{lease.Attempt}");
        using var heartbeat = new CancellationTokenSource();
        var heartbeats = HeartbeatLoopAsync(workerId, trial, heartbeat.Token);
        try
        {
            TrainingOutcome outcome;
            try
            {
                outcome = await TrainAsync(trial, work);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                metrics.TrialFailed();
                logger.LogWarning(e, "Trial {Trial} attempt {Attempt} failed", lease.TrialId, lease.Attempt);
                if (trial.Directive == TrialDirective.Continue)
                    await ReportAsync(lease, "its failure", ct => sweep.FailTrialAsync(new TrialFailure(lease.TrialId, lease.Attempt, Describe(e), Retryable: true), ct));
                else if (trial.Directive == TrialDirective.Release)
                    await ReportAsync(lease, "its release", ct => sweep.ReleaseTrialAsync(lease.TrialId, lease.Attempt, ct));
                return;
            }
            // Heartbeats go on while the files upload and the result is reported: a slow store or a sweep grain
            // moving to another silo must not make a finished trial look lost.
            await FinishAsync(trial, sweep, outcome, work);
        }
        finally
        {
            heartbeat.Cancel();
            await heartbeats;
            _running.TryRemove(slot, out _);
            TryDelete(work);
        }
    }

    /// <summary>Trains from the newest good checkpoint: a corrupt one is skipped for the one before it.</summary>
    private async Task<TrainingOutcome> TrainAsync(RunningTrial trial, string work)
    {
        var lease = trial.Lease;
        var candidates = lease.Checkpoints.Select(c => (TrialCheckpoint?)c).Append(null).ToList();
        foreach (var checkpoint in candidates)
        {
            TryDelete(work);
            Directory.CreateDirectory(work);
            string? resume = null;
            if (checkpoint is not null)
            {
                resume = Path.Combine(work, "resume");
                try
                {
                    await store.DownloadDirectoryAsync(checkpoint.Location, resume, CancellationToken.None);
                }
                catch (ArtifactCorruptException e)
                {
                    logger.LogWarning("Trial {Trial}: checkpoint {Location} is corrupt ({Error}); trying an older one", lease.TrialId, checkpoint.Location, e.Message);
                    continue;
                }
            }
            var workspace = new TrialWorkspace(Path.Combine(work, "out"), Path.Combine(options.DataDir, "bases"), resume, options.Device);
            try
            {
                return await RunOnOwnThreadAsync(() => runner.Run(lease, workspace, trial, trial.StopToken));
            }
            catch (CheckpointCorruptException e)
            {
                logger.LogWarning("Trial {Trial}: checkpoint {Location} is corrupt ({Error}); trying an older one", lease.TrialId, checkpoint?.Location, e.Message);
            }
        }
        throw new InvalidOperationException($"trial {lease.TrialId}: no usable starting point");
    }

    private async Task FinishAsync(RunningTrial trial, ISweepGrain sweep, TrainingOutcome outcome, string work)
    {
        var lease = trial.Lease;
        switch (trial.Directive)
        {
            case TrialDirective.Abandon:
                return;
            case TrialDirective.Release:
                await ReportAsync(lease, "its release", ct => sweep.ReleaseTrialAsync(lease.TrialId, lease.Attempt, ct));
                return;
        }
        var output = Path.Combine(work, "out");
        string? adapterSha = null;
        var adapterDir = Path.Combine(output, TrialTrainer.AdapterFolder);
        if (Directory.Exists(adapterDir))
        {
            var files = await store.UploadDirectoryAsync(adapterDir, ArtifactPaths.TrialAdapter(lease.Sweep, lease.TrialId), CancellationToken.None);
            adapterSha = files.FirstOrDefault(f => f.Key.EndsWith(ArtifactPaths.AdapterWeightsFile, StringComparison.Ordinal)).Value;
        }
        var fullModel = Path.Combine(output, TrialTrainer.FullModelFile);
        if (File.Exists(fullModel))
        {
            await using var model = File.OpenRead(fullModel);
            await store.WriteAsync(ArtifactPaths.Trial(lease.Sweep, lease.TrialId) + TrialTrainer.FullModelFile, model, CancellationToken.None);
        }
        string? resultSha = null;
        var resultFile = Path.Combine(output, "result.json");
        if (File.Exists(resultFile))
        {
            // First writer wins: a duplicate attempt's identical result is not written twice.
            var bytes = await File.ReadAllBytesAsync(resultFile);
            resultSha = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)).ToLowerInvariant();
            await store.TryCreateAsync(ArtifactPaths.TrialResult(lease.Sweep, lease.TrialId), new MemoryStream(bytes), CancellationToken.None);
        }
        var completion = new TrialCompletion(lease.TrialId, lease.Attempt, outcome.Metrics, outcome.TrainableParameters,
            outcome.TotalParameters, outcome.Steps, outcome.Elapsed.TotalSeconds, trial.Directive == TrialDirective.Prune, resultSha, adapterSha);
        await ReportAsync(lease, "its result", ct => sweep.CompleteTrialAsync(completion, ct));
        metrics.TrialFinished(outcome.Steps);
    }

    private static readonly TimeSpan ReportDeadline = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Tells the sweep how a trial ended, retrying until it has heard (the calls are idempotent): while a dead silo
    /// that hosted the sweep or leaderboard grain is being declared dead, or Redis restarts, calls fail for seconds.
    /// A trial's outcome must not be turned into a failure, or lost, by that.
    /// </summary>
    private async Task ReportAsync(TrialLease lease, string what, Func<CancellationToken, Task> call)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(250);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await call(timeout.Token);
                if (attempt > 1)
                    logger.LogInformation("Trial {Trial} attempt {Attempt}: {What} reported after {Tries} tries", lease.TrialId, lease.Attempt, what, attempt);
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException && clock.Elapsed < ReportDeadline)
            {
                logger.LogWarning("Trial {Trial} attempt {Attempt}: reporting {What} failed ({Error}); retrying in {Delay} ms",
                    lease.TrialId, lease.Attempt, what, e.Message.Split('\n')[0], (int)delay.TotalMilliseconds);
                await Task.Delay(delay);
                delay = TimeSpan.FromMilliseconds(Math.Min(5000, delay.TotalMilliseconds * 2));
            }
        }
    }

    private async Task HeartbeatLoopAsync(string workerId, RunningTrial trial, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(HeartbeatInterval, cancellationToken);
                await trial.HeartbeatAsync();
                await ReportWorkerAsync(workerId, trial);
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task ReportWorkerAsync(string workerId, RunningTrial? trial)
    {
        try
        {
            var latest = trial?.Latest;
            await grains.GetGrain<IWorkerGrain>(workerId).HeartbeatAsync(new WorkerInfo(workerId, silo.Name, options.Device,
                options.Accelerator, options.MemoryPerSlot, trial?.Lease.Sweep, trial?.Lease.TrialId, latest?.Step ?? 0,
                latest?.TotalSteps ?? 0, DateTimeOffset.UtcNow, _draining));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogDebug("Worker {Worker}: status not reported ({Error})", workerId, e.Message);
        }
    }

    private static Task<T> RunOnOwnThreadAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try { done.SetResult(work()); }
            catch (Exception e) { done.SetException(e); }
        }) { IsBackground = true, Name = "trial" };
        thread.Start();
        return done.Task;
    }

    private static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";

    private static void TryDelete(string directory)
    {
        try { if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
