using Orchestrator.Silo.Hosting;

namespace Orchestrator.Silo.Training;

/// <summary>
/// Tells a sweep how an attempt ended: result, failure or release, each through the grain-call pipeline. The calls
/// are idempotent (by trial id and attempt), so they are retried until the sweep has heard, up to the pipeline's
/// budget: while a dead silo that hosted the sweep or leaderboard grain is being declared dead, or Redis
/// restarts, calls fail for seconds, and a trial's outcome must not be turned into a failure, or lost, by that.
/// </summary>
public sealed class SweepReports(IGrainFactory grains, GrainCallResilience resilience)
{
    public Task CompleteAsync(TrialLease lease, TrialCompletion completion) =>
        ReportAsync(lease, "result", (sweep, ct) => sweep.CompleteTrialAsync(completion, ct));

    /// <summary>Reports the attempt's failure, retryable or not as <see cref="TrialFailures"/> classifies it.</summary>
    public Task FailAsync(TrialLease lease, Exception error) =>
        ReportAsync(lease, "failure", (sweep, ct) => sweep.FailTrialAsync(TrialFailures.Of(lease, error), ct));

    /// <summary>
    /// Records a stored checkpoint. Retried like the rest: the checkpoint written on stopping is the one the hand-back
    /// after it relies on, and a lost report would leave the sweep resuming from an older one.
    /// </summary>
    public Task CheckpointAsync(TrialLease lease, TrialCheckpoint checkpoint) =>
        ReportAsync(lease, $"checkpoint at step {checkpoint.Step}", (sweep, ct) => sweep.ReportCheckpointAsync(checkpoint, ct));

    /// <summary>Hands the trial back (drain, shutdown): another worker resumes it from its checkpoint.</summary>
    public Task ReleaseAsync(TrialLease lease) =>
        ReportAsync(lease, "release", (sweep, ct) => sweep.ReleaseTrialAsync(lease.TrialId, lease.Attempt, ct));

    // Not cancelled by shutdown: a finished or handed-back trial must still be heard of while the silo stops.
    private Task ReportAsync(TrialLease lease, string what, Func<ISweepGrain, CancellationToken, Task> call)
    {
        var sweep = grains.GetGrain<ISweepGrain>(lease.Sweep);
        return resilience.ExecuteAsync($"trial {lease.TrialId} attempt {lease.Attempt}: reporting its {what}",
            ct => call(sweep, ct), CancellationToken.None);
    }
}
