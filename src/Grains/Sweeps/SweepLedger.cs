using Orchestrator.Sweeps;
using System.Text.Json.Nodes;
using Orchestrator.Sweeps.EarlyStopping;
using Orchestrator.Sweeps.Search;

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
    /// <summary>Indices of the running trials, in order: a lease looks for the ones its worker already holds without scanning every trial.</summary>
    private readonly SortedSet<int> _running = [];
    private readonly int[] _counts = new int[Enum.GetValues<TrialState>().Length];
    private EarlyStoppingPolicy? _earlyStopping;
    private (string Trial, int Attempt, int Iteration)? _undecidedStop;

    /// <summary>
    /// A stop the rule has just decided on an evaluation, not yet journaled as <see cref="TrialPruneDecided"/>: the grain
    /// journals it right after the evaluation. Cleared by taking it.
    /// </summary>
    public TrialPruneDecided? TakeUndecidedStop(DateTimeOffset at)
    {
        if (_undecidedStop is not { } s || Settings?.EarlyStopping is not { } rule) return null;
        _undecidedStop = null;
        return new TrialPruneDecided(at, s.Trial, s.Attempt, s.Iteration, rule.Description);
    }

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

    /// <summary>Bayes: TPE fed with every finished trial in journal order (replay rebuilds it; suggestions themselves are journaled, never recomputed).</summary>
    public TpeSampler? Sampler { get; private set; }
    /// <summary>Bayes: suggestions journaled so far.</summary>
    public int Suggested { get; private set; }
    /// <summary>Bayes: the most suggestions (run_cap; raised by a resubmission).</summary>
    public int RunCap { get; private set; }
    /// <summary>Bayes: no untried point was left to suggest.</summary>
    public bool Exhausted { get; private set; }

    /// <summary>A bayes sweep that will still suggest trials.</summary>
    public bool MoreToSuggest => Settings?.Search is not null && !Exhausted && Suggested < RunCap;

    public bool AllTerminal => (Trials.Count > 0 || Settings?.Search is not null) && Count(TrialState.Queued) + Count(TrialState.Running) == 0 && !MoreToSuggest;

    /// <summary>The trial's values of the search's dimensions, as its config has them (what TPE learns from).</summary>
    public IReadOnlyDictionary<string, JsonNode> ValuesOf(TrialEntry trial)
    {
        var values = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        foreach (var d in Settings?.Search?.Space.Dimensions ?? [])
            if (trial.Plan.Config.TryGetProperty(d.Name, out var v) && JsonNode.Parse(v.GetRawText()) is { } node) values[d.Name] = node;
        return values;
    }

    /// <summary>Trials in a state, kept as a running count so a 10,000-trial sweep never rescans itself per call.</summary>
    public int Count(TrialState state) => _counts[(int)state];

    /// <summary>Queued trials, lowest index (grid order) first.</summary>
    public IEnumerable<TrialEntry> Queued => _queued.Select(i => Trials[i]);

    /// <summary>The running trials, in plan order.</summary>
    public IEnumerable<TrialEntry> Running => _running.Select(i => Trials[i]);

    public void Apply(SweepEvent e)
    {
        // A stop the rule decides is journaled by the very next event or not at all (the silo died in between: the
        // trial runs on, one decision lost rather than one re-derived by a later version of the rule).
        if (e is not TrialPruneDecided) _undecidedStop = null;
        switch (e)
        {
            case SweepSubmitted s:
                YamlText = s.YamlText;
                FileName = s.FileName;
                Settings = s.Settings ?? throw Legacy(s);
                Spec = SweepPlan.CanonicalOf(s);
                _earlyStopping = Settings.EarlyStopping?.CreatePolicy(Settings.Goal);
                if (Settings.Search is { } search)
                {
                    Sampler = new TpeSampler(search.Space, Settings.Maximize);
                    RunCap = search.RunCap;
                }
                AddTrials(s.Trials ?? throw Legacy(s));
                State = SweepState.Running;
                StartedAt ??= s.At;
                break;
            case SweepExtended x:
                YamlText = x.YamlText;
                var raised = x.RunCap is { } cap && cap > RunCap && Settings?.Search is not null;
                if (raised) RunCap = x.RunCap!.Value;
                if ((AddTrials(x.Trials ?? throw Legacy(x)) > 0 || (raised && MoreToSuggest)) && State == SweepState.Finished)
                {
                    State = SweepState.Running;
                    FinishedAt = null;
                }
                break;
            case TrialSuggested g:
                AddTrials([g.Trial]);
                Suggested = Math.Max(Suggested, g.Number + 1);
                break;
            case SearchExhausted:
                Exhausted = true;
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
                t.Pack = l.Pack;
                t.LastHeartbeat = l.At;
                t.Step = t.Checkpoints.Count > 0 ? t.Checkpoints[0].Step : 0;
                t.Attempts.Add(new TrialAttempt(l.Attempt, l.Worker, l.At, null, null, null, l.Pack));
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
                // The rule hears every evaluation (its rungs need them). Sweeps submitted since decisions are journaled
                // take a stop only from its TrialPruneDecided event; older journals re-derive it here, as they always did.
                var stop = _earlyStopping?.Report(v.Trial, v.Iteration, v.Metric) == Decision.Stop;
                if (stop && Settings?.JournalsDecisions == true) _undecidedStop = (v.Trial, v.Attempt, v.Iteration);
                else if (stop) t.PruneRequested = true;
                break;
            case TrialPruneDecided d when Find(d.Trial) is { IsTerminal: false } t:
                t.PruneRequested = true;
                _undecidedStop = null;
                break;
            case TrialCompleted c when Find(c.Trial) is { IsTerminal: false } t:
                SetState(t, c.Completion.Pruned ? TrialState.Pruned : TrialState.Succeeded);
                t.Result = c.Completion;
                t.Metrics = c.Completion.Metrics;
                t.Step = c.Completion.Steps;
                t.Worker = null;
                _earlyStopping?.Completed(c.Trial, t.Curve);
                Observe(t, c.Completion);
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

    /// <summary>
    /// TPE learns from a finished trial: a completed one by its metric (a missing metric counts as the worst), a pruned
    /// one as worse than any completed, ranked by its last evaluation (Optuna's rule for pruned trials).
    /// </summary>
    private void Observe(TrialEntry trial, TrialCompletion completion)
    {
        if (Sampler is null || Settings is null) return;
        var values = ValuesOf(trial);
        if (completion.Pruned)
        {
            var (iteration, metric) = trial.Curve.Count > 0 ? trial.Curve[^1] : (0, completion.Metrics.TryGetValue(Settings.Metric, out var m) ? m : double.NaN);
            Sampler.Pruned(values, iteration, double.IsNaN(metric) ? null : metric);
        }
        else Sampler.Complete(values, completion.Metrics.TryGetValue(Settings.Metric, out var v) ? v : double.NaN);
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
        if (trial.State == TrialState.Running) _running.Remove(trial.Index);
        trial.State = state;
        _counts[(int)state]++;
        if (state == TrialState.Queued) _queued.Add(trial.Index);
        if (state == TrialState.Running) _running.Add(trial.Index);
    }
}
