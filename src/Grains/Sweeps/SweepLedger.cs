using Orchestrator.Sweeps;
using Orchestrator.Sweeps.EarlyStopping;

namespace Orchestrator.Grains.Sweeps;

/// <summary>
/// A sweep's state as the replay of its events. Pure: no Orleans, no I/O, and no parsing: the events carry the
/// decisions (plans, settings, early-stopping rule), so replay after a crash, or by a later version, reproduces
/// exactly what the live grain had, including every early-stopping decision.
/// </summary>
public sealed class SweepLedger
{
    private const int CheckpointsKept = 3;
    private readonly Dictionary<string, TrialEntry> _byId = new(StringComparer.Ordinal);
    private readonly SortedSet<int> _queued = [];
    private readonly int[] _counts = new int[Enum.GetValues<TrialState>().Length];
    private EarlyStoppingPolicy? _earlyStopping;

    /// <summary>The journaled settings; null until the sweep is submitted.</summary>
    public SweepSettings? Settings { get; private set; }
    /// <summary>The canonical spec and hash the submission recorded: what a resubmission is compared with.</summary>
    public CanonicalSpec? Spec { get; private set; }
    public string? YamlText { get; private set; }
    public string? FileName { get; private set; }
    public SweepState State { get; private set; } = SweepState.NotFound;
    public DateTimeOffset? StartedAt { get; private set; }
    public DateTimeOffset? FinishedAt { get; private set; }
    public List<TrialEntry> Trials { get; } = [];
    /// <summary>Bumped on every trial change (see <see cref="Touch"/>); a trial's <see cref="TrialEntry.Version"/> is the value at its last change.</summary>
    public long Version { get; private set; }

    /// <summary>Marks a trial changed (events do this themselves; the grain calls it for progress reports).</summary>
    public void Touch(TrialEntry trial) => trial.Version = ++Version;

    /// <summary>Trials changed after <paramref name="version"/>.</summary>
    public IEnumerable<TrialEntry> ChangedSince(long version) => version <= 0 ? Trials : Trials.Where(t => t.Version > version);

    public TrialEntry? Find(string trialId) => _byId.GetValueOrDefault(trialId);

    public bool AllTerminal => Trials.Count > 0 && Count(TrialState.Queued) + Count(TrialState.Running) == 0;

    /// <summary>Trials in a state, kept as a running count so a 10,000-trial sweep never rescans itself per call.</summary>
    public int Count(TrialState state) => _counts[(int)state];

    /// <summary>Queued trials, lowest index (grid order) first.</summary>
    public IEnumerable<TrialEntry> Queued => _queued.Select(i => Trials[i]);

    public void Apply(SweepEvent e)
    {
        switch (e)
        {
            case SweepSubmitted s:
                YamlText = s.YamlText;
                FileName = s.FileName;
                Settings = s.Settings ?? throw Legacy(s);
                Spec = SweepPlans.CanonicalOf(s);
                _earlyStopping = Settings.EarlyStopping?.CreatePolicy(Settings.Goal);
                AddTrials(s.Trials ?? throw Legacy(s));
                State = SweepState.Running;
                StartedAt ??= s.At;
                break;
            case SweepExtended x:
                YamlText = x.YamlText;
                if (AddTrials(x.Trials ?? throw Legacy(x)) > 0 && State == SweepState.Finished)
                {
                    State = SweepState.Running;
                    FinishedAt = null;
                }
                break;
            case SweepStateChanged c:
                State = c.State;
                if (c.State is SweepState.Finished or SweepState.Cancelled) FinishedAt = c.At;
                if (c.State == SweepState.Cancelled)
                    foreach (var t in Trials.Where(t => !t.IsTerminal))
                    {
                        SetState(t, TrialState.Cancelled);
                        EndAttempt(t, c.At, "cancelled", null);
                        Touch(t);
                    }
                break;
            case TrialLeased l when Find(l.Trial) is { IsTerminal: false } t:
                SetState(t, TrialState.Running);
                t.Attempt = l.Attempt;
                t.Worker = l.Worker;
                t.LastHeartbeat = l.At;
                t.Step = t.Checkpoints.Count > 0 ? t.Checkpoints[0].Step : 0;
                t.Attempts.Add(new TrialAttempt(l.Attempt, l.Worker, l.At, null, null, null));
                Touch(t);
                break;
            case TrialCheckpointed c when Find(c.Trial) is { } t:
                t.Checkpoints.RemoveAll(k => k.Step >= c.Step);
                t.Checkpoints.Insert(0, new TrialCheckpoint(c.Trial, c.Attempt, c.Location, c.Step));
                if (t.Checkpoints.Count > CheckpointsKept) t.Checkpoints.RemoveRange(CheckpointsKept, t.Checkpoints.Count - CheckpointsKept);
                break;
            case TrialEvaluated v when Find(v.Trial) is { IsTerminal: false } t:
                t.Curve.RemoveAll(p => p.Iteration >= v.Iteration);
                t.Curve.Add((v.Iteration, v.Metric));
                if (_earlyStopping?.Report(v.Trial, v.Iteration, v.Metric) == Decision.Stop)
                    t.PruneRequested = true;
                break;
            case TrialCompleted c when Find(c.Trial) is { IsTerminal: false } t:
                SetState(t, c.Completion.Pruned ? TrialState.Pruned : TrialState.Succeeded);
                t.Result = c.Completion;
                t.Metrics = c.Completion.Metrics;
                t.Step = c.Completion.Steps;
                t.Worker = null;
                _earlyStopping?.Completed(c.Trial, t.Curve);
                EndAttempt(t, c.At, c.Completion.Pruned ? "pruned" : "succeeded", null);
                Touch(t);
                break;
            case TrialFailed f when Find(f.Trial) is { State: TrialState.Running } t && t.Attempt == f.Attempt:
                t.Failures++;
                t.Error = f.Error;
                t.Worker = null;
                SetState(t, !f.Retryable || t.Failures > (Settings?.MaxFailures ?? 0) ? TrialState.Failed : TrialState.Queued);
                EndAttempt(t, f.At, "failed", f.Error);
                Touch(t);
                break;
            case TrialRequeued r when Find(r.Trial) is { State: TrialState.Running } t && t.Attempt == r.Attempt:
                SetState(t, TrialState.Queued);
                t.Worker = null;
                EndAttempt(t, r.At, "requeued", r.Reason);
                Touch(t);
                break;
        }
    }

    private static void EndAttempt(TrialEntry trial, DateTimeOffset at, string outcome, string? error)
    {
        if (trial.Attempts is [.., { EndedAt: null } last])
            trial.Attempts[^1] = last with { EndedAt = at, Outcome = outcome, Error = error };
    }

    private static InvalidOperationException Legacy(SweepEvent e) =>
        new($"a {e.GetType().Name} event without its plans: upgrade it with {nameof(LegacySweepEvents)} before replaying it");

    private int AddTrials(IReadOnlyList<PlannedTrial> plans)
    {
        var added = 0;
        foreach (var plan in plans)
        {
            if (_byId.ContainsKey(plan.Id)) continue;
            var entry = new TrialEntry(plan, Trials.Count);
            _byId.Add(plan.Id, entry);
            Trials.Add(entry);
            _counts[(int)TrialState.Queued]++;
            _queued.Add(entry.Index);
            Touch(entry);
            added++;
        }
        return added;
    }

    private void SetState(TrialEntry trial, TrialState state)
    {
        if (trial.State == state) return;
        _counts[(int)trial.State]--;
        if (trial.State == TrialState.Queued) _queued.Remove(trial.Index);
        trial.State = state;
        _counts[(int)state]++;
        if (state == TrialState.Queued) _queued.Add(trial.Index);
    }
}
