using Microsoft.Extensions.Logging;
using Orchestrator.Contracts.Workers;
using Orchestrator.Silo.Hosting;
using Orleans.Runtime;

namespace Orchestrator.Silo.Training;

/// <summary>
/// A slot's signs of life: its status for `workers` (best effort, never retried: the next beat supersedes it) and,
/// while it trains, the trial's heartbeat to its sweep, which keeps the lease.
/// </summary>
public sealed class WorkerHeartbeats(IGrainFactory grains, SiloHostOptions options, ILocalSiloDetails silo, ILogger<WorkerHeartbeats> logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Beats every <see cref="Interval"/> until cancelled: the trial's heartbeat, then (when <paramref name="reportsWorker"/>:
    /// one member of a pack speaks for the slot) the worker's status.
    /// </summary>
    public async Task BeatWhileTrainingAsync(string workerId, AttemptReporter trial, Func<bool> draining, CancellationToken cancellationToken,
        bool reportsWorker = true)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // The beat ends with every trial: a cancelled delay that throws costs an exception per trial.
                await Task.Delay(Interval, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (cancellationToken.IsCancellationRequested) break;
                await trial.HeartbeatAsync();
                if (reportsWorker) await ReportAsync(workerId, trial, draining());
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Publishes the slot's status (idle when <paramref name="trial"/> is null).</summary>
    public async Task ReportAsync(string workerId, AttemptReporter? trial, bool draining)
    {
        try
        {
            var latest = trial?.Latest;
            await grains.GetGrain<IWorkerGrain>(workerId).HeartbeatAsync(new WorkerInfo(workerId, silo.Name, options.Device,
                options.Accelerator, options.MemoryPerSlot, trial?.Lease.Sweep, trial?.Lease.TrialId, latest?.Step ?? 0,
                latest?.TotalSteps ?? 0, DateTimeOffset.UtcNow, draining, trial?.Lease.Pack));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogDebug("Worker {Worker}: status not reported ({Error})", workerId, e.Message);
        }
    }
}
