namespace Orchestrator.Sweeps.EarlyStopping;

public enum Decision { Continue, Stop }

public enum EarlyStoppingEventKind { Report, Completed }

/// <summary>
/// One input to a policy: an intermediate report or a completed trial's curve. A policy's state is exactly the
/// ordered list of these, so the sweep grain persists them and <see cref="EarlyStoppingPolicy.Restore"/> replays
/// them after a restart to reach the same decisions.
/// </summary>
public sealed record EarlyStoppingEvent(
    EarlyStoppingEventKind Kind, string TrialId, int Iteration, double Metric, IReadOnlyList<(int Iteration, double Metric)> Curve)
{
    public static EarlyStoppingEvent Reported(string trialId, int iteration, double metric) =>
        new(EarlyStoppingEventKind.Report, trialId, iteration, metric, []);

    public static EarlyStoppingEvent Finished(string trialId, IReadOnlyList<(int Iteration, double Metric)> curve) =>
        new(EarlyStoppingEventKind.Completed, trialId, 0, 0, curve.ToArray());
}

/// <summary>
/// Decides, at each evaluation a trial reports, whether it should go on. Pure logic: no clocks, no randomness,
/// no I/O. `iteration` is the trial's evaluation count (its first evaluation is iteration 1), so `min_iter`,
/// `max_iter` and `start_iter` are in evaluations, whatever eval_every is. A NaN metric counts as the worst
/// possible value. Once stopped, a trial stays stopped.
/// </summary>
public abstract class EarlyStoppingPolicy
{
    private readonly List<EarlyStoppingEvent> _events = [];
    private readonly HashSet<string> _stopped = new(StringComparer.Ordinal);

    protected EarlyStoppingPolicy(MetricGoal goal) => Goal = goal;

    public MetricGoal Goal { get; }
    public IReadOnlyList<EarlyStoppingEvent> Events => _events;
    public bool IsStopped(string trialId) => _stopped.Contains(trialId);

    public static EarlyStoppingPolicy Create(EarlyTerminationSpec? spec, MetricGoal goal) => spec switch
    {
        null => new NeverStopPolicy(goal),
        AshaSpec a => new AshaPolicy(goal, a.MinIter, a.MaxIter, a.Eta, a.Brackets),
        HyperbandSpec h => new AshaPolicy(goal, h.MinIter, h.MaxIter, h.Eta, h.Brackets),
        MedianStopSpec m => new MedianStoppingPolicy(goal, m.MinTrials, m.StartIter),
        _ => throw new ArgumentException($"unknown early termination {spec.GetType().Name}", nameof(spec)),
    };

    public Decision Report(string trialId, int iteration, double metric)
    {
        var e = EarlyStoppingEvent.Reported(trialId, iteration, metric);
        _events.Add(e);
        return Apply(e);
    }

    public void Completed(string trialId, IReadOnlyList<(int Iteration, double Metric)> curve)
    {
        var e = EarlyStoppingEvent.Finished(trialId, curve);
        _events.Add(e);
        Apply(e);
    }

    /// <summary>Forgets everything and replays <paramref name="events"/>; returns the decision of each report, in order.</summary>
    public IReadOnlyList<Decision> Restore(IEnumerable<EarlyStoppingEvent> events)
    {
        _events.Clear();
        _stopped.Clear();
        Reset();
        var decisions = new List<Decision>();
        foreach (var e in events)
        {
            _events.Add(e);
            var d = Apply(e);
            if (e.Kind == EarlyStoppingEventKind.Report) decisions.Add(d);
        }
        return decisions;
    }

    private Decision Apply(EarlyStoppingEvent e)
    {
        if (e.Kind == EarlyStoppingEventKind.Completed)
        {
            OnCompleted(e.TrialId, e.Curve.Select(p => (p.Iteration, Score(p.Metric))).ToList());
            return Decision.Continue;
        }
        if (_stopped.Contains(e.TrialId)) return Decision.Stop;
        var decision = OnReport(e.TrialId, e.Iteration, Score(e.Metric));
        if (decision == Decision.Stop) _stopped.Add(e.TrialId);
        return decision;
    }

    /// <summary>Higher is better, whatever the goal; NaN is the worst.</summary>
    private double Score(double metric) =>
        double.IsNaN(metric) ? double.NegativeInfinity : Goal == MetricGoal.Maximize ? metric : -metric;

    /// <param name="score">The metric turned so that higher is better.</param>
    protected abstract Decision OnReport(string trialId, int iteration, double score);

    protected virtual void OnCompleted(string trialId, IReadOnlyList<(int Iteration, double Score)> curve) { }

    protected abstract void Reset();
}

internal sealed class NeverStopPolicy(MetricGoal goal) : EarlyStoppingPolicy(goal)
{
    protected override Decision OnReport(string trialId, int iteration, double score) => Decision.Continue;
    protected override void Reset() { }
}
