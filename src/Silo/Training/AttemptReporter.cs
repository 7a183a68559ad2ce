using Microsoft.Extensions.Logging;
using Orchestrator.Contracts.Trials;
using Orchestrator.Storage;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Silo.Training;

/// <summary>
/// One attempt of a trial on this worker, seen from the training thread. Progress goes to the sweep (evaluations
/// synchronously, so an early-stopping decision reaches the trainer at that very evaluation; plain steps at most
/// once per <paramref name="reportInterval"/>, a second by default, without waiting). Checkpoints are uploaded before the sweep hears of them. The sweep's answer,
/// or a drain, becomes the directive that stops the trainer. What is reported is also kept as the trial's metric
/// history and stored as metrics.jsonl (<see cref="TrialMetricsFile"/>) at each checkpoint and at the end.
/// </summary>
public sealed class AttemptReporter(TrialLease lease, ISweepGrain sweep, SweepReports reports, IArtifactStore store, ILogger logger,
    TimeSpan reportInterval) : ITrainingObserver
{
    /// <summary>Plain steps enter the metric history at most this often (whatever the report interval).</summary>
    private static readonly TimeSpan HistoryInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan EvaluationReplyTimeout = TimeSpan.FromSeconds(30);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private TrialDirective _directive = TrialDirective.Continue;
    private TrialProgressReport _latest = new(lease.TrialId, lease.Attempt, 0, 0, new Dictionary<string, double>(), 0, false);
    private DateTimeOffset _lastSent = DateTimeOffset.MinValue;
    private int _sending;
    private readonly List<MetricPoint> _history = [];
    private DateTimeOffset _lastRecorded = DateTimeOffset.MinValue;

    /// <summary>More points than this and every other plain step is dropped (evaluations are kept).</summary>
    public const int HistoryLimit = 4096;

    public TrialLease Lease { get; } = lease;
    public TrialDirective Directive { get { lock (_gate) return _directive; } }
    /// <summary>Cancelled when the trial must stop; passed to the trainer so it stops between progress calls too.</summary>
    public CancellationToken StopToken => _stop.Token;
    public TrialProgressReport Latest { get { lock (_gate) return _latest; } }

    public bool OnProgress(TrainingProgress progress)
    {
        if (progress.Metrics.TryGetValue("train_loss", out var loss) && !double.IsFinite(loss))
            throw new TrialDivergedException($"training loss became {loss} at step {progress.Step}");

        var report = new TrialProgressReport(Lease.TrialId, Lease.Attempt, progress.Step, progress.TotalSteps,
            progress.Metrics, progress.Evaluation, progress.IsEvaluation);
        lock (_gate)
        {
            _latest = report;
            Record(progress);
        }

        if (progress.IsEvaluation)
        {
            try
            {
                // Blocking here is fine: this is the trial's own thread, not an Orleans one.
                Apply(sweep.ReportProgressAsync(report).WaitAsync(EvaluationReplyTimeout).GetAwaiter().GetResult());
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                logger.LogWarning("Trial {Trial}: evaluation report not delivered ({Error}); training on", Lease.TrialId, e.Message);
            }
        }
        else if (DateTimeOffset.UtcNow - _lastSent >= reportInterval)
        {
            _ = SendAsync(report);
        }
        return Directive == TrialDirective.Continue;
    }

    public void OnCheckpoint(string directory, long step)
    {
        var location = $"{ArtifactPaths.TrialCheckpoints(Lease.Sweep, Lease.TrialId)}step-{step}/";
        var checkpoint = new TrialCheckpoint(Lease.TrialId, Lease.Attempt, location, step);
        try
        {
            store.UploadDirectoryAsync(directory, location, CancellationToken.None).GetAwaiter().GetResult();
            StoreHistoryAsync(null, CancellationToken.None).GetAwaiter().GetResult();
            // A periodic checkpoint the sweep does not hear of is superseded by the next one: one try, training goes
            // on. The one written on stopping (drain, pause, prune) is followed at once by the hand-back, and the next
            // attempt resumes from whatever the sweep heard last: it is retried until heard, before the release is
            // sent, as the release itself is (one try, failing while the silo shuts down, would be lost unheard).
            if (Directive != TrialDirective.Continue) reports.CheckpointAsync(Lease, checkpoint).GetAwaiter().GetResult();
            else
            {
                try { sweep.ReportCheckpointAsync(checkpoint).GetAwaiter().GetResult(); }
                // The stop came meanwhile, and with no stop checkpoint to follow this one is what the next attempt gets.
                catch (Exception) when (Directive != TrialDirective.Continue) { reports.CheckpointAsync(Lease, checkpoint).GetAwaiter().GetResult(); }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A checkpoint that did not land is not recorded; the previous one stays the resume point.
            logger.LogWarning("Trial {Trial}: checkpoint at step {Step} not stored ({Error})", Lease.TrialId, step, e.Message);
        }
    }

    /// <summary>Evaluations, and plain steps once a second, thinned past <see cref="HistoryLimit"/>.</summary>
    private void Record(TrainingProgress progress)
    {
        if (progress.Metrics.Count == 0) return;
        var now = DateTimeOffset.UtcNow;
        if (!progress.IsEvaluation && now - _lastRecorded < HistoryInterval) return;
        _lastRecorded = now;
        _history.RemoveAll(p => p.Step > progress.Step); // a resumed run repeats steps
        _history.Add(new MetricPoint(progress.Step, new Dictionary<string, double>(progress.Metrics)));
        if (_history.Count <= HistoryLimit) return;
        var kept = _history.Where((p, i) => i % 2 == 0 || i == _history.Count - 1 || p.Metrics.Keys.Any(k => !k.StartsWith("train_", StringComparison.Ordinal))).ToList();
        _history.Clear();
        _history.AddRange(kept);
    }

    /// <summary>
    /// Stores the history heard so far as metrics.jsonl, after the points an earlier attempt stored before this one's
    /// first step (a resumed trial's curve is whole); with a result, ending with it as the sweep grain's does.
    /// </summary>
    public async Task StoreHistoryAsync((long Steps, IReadOnlyDictionary<string, double> Metrics)? result, CancellationToken cancellationToken)
    {
        List<MetricPoint> mine;
        lock (_gate) mine = [.. _history];
        var first = mine.Count > 0 ? mine[0].Step : long.MaxValue;
        var earlier = Lease.Attempt > 1 ? await TrialMetricsFile.ReadAsync(store, Lease.Sweep, Lease.TrialId, cancellationToken) ?? [] : [];
        IReadOnlyList<MetricPoint> points = [.. earlier.Where(p => p.Step < first), .. mine];
        if (result is { } r) points = MetricHistory.EndingWith(points, r.Steps, r.Metrics);
        if (points.All(p => p.Metrics.Count == 0)) return; // nothing was measured: no curve to keep
        await TrialMetricsFile.WriteAsync(store, Lease.Sweep, Lease.TrialId, points, cancellationToken);
    }

    /// <summary>A heartbeat between progress calls (a long base-model pretraining, a slow evaluation).</summary>
    public Task HeartbeatAsync()
    {
        if (DateTimeOffset.UtcNow - _lastSent < reportInterval) return Task.CompletedTask;
        return SendAsync(Latest);
    }

    /// <summary>Drain or shutdown: stop at the next opportunity and hand the trial back.</summary>
    public void Release() => Apply(TrialDirective.Release);

    private async Task SendAsync(TrialProgressReport report)
    {
        if (Interlocked.Exchange(ref _sending, 1) == 1) return;
        try
        {
            _lastSent = DateTimeOffset.UtcNow;
            Apply(await sweep.ReportProgressAsync(report));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogDebug("Trial {Trial}: progress report failed ({Error})", Lease.TrialId, e.Message);
        }
        finally
        {
            Volatile.Write(ref _sending, 0);
        }
    }

    private void Apply(TrialDirective directive)
    {
        if (directive == TrialDirective.Continue) return;
        lock (_gate)
        {
            // The first stop reason wins, except that abandoning (cancel, stale attempt) overrides everything.
            if (_directive == TrialDirective.Continue || directive == TrialDirective.Abandon) _directive = directive;
        }
        _stop.Cancel();
    }
}
