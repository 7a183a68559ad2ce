using System.Text.Json;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Grains.Sweeps;

/// <summary>One trial inside a sweep's ledger: its journaled plan and everything that happened to it.</summary>
public sealed class TrialEntry(PlannedTrial plan, int index)
{
    public PlannedTrial Plan { get; } = plan;
    /// <summary>Position in the sweep (grid order): queued trials are leased lowest index first.</summary>
    public int Index { get; } = index;
    public string Id => Plan.Id;

    /// <summary>
    /// The plan's trainer options, typed, built once: `trials` and `watch` ask for every trial's record on each poll,
    /// and a grain call must stay short.
    /// </summary>
    public IReadOnlyDictionary<string, ParameterValue> ConfigValues => _configValues ??= Plan.ConfigValues;

    private IReadOnlyDictionary<string, ParameterValue>? _configValues;

    /// <summary>The plan's config as the trial model's record, read once: every lease of this trial carries it.</summary>
    public TrainingConfig Config => _config ??= Plan.Config.Deserialize<TrainingConfig>() ?? throw new InvalidOperationException($"trial {Id} has no config");

    private TrainingConfig? _config;
    /// <summary>Changed only through <see cref="SweepLedger"/>, which keeps its per-state counts and queue in step.</summary>
    public TrialState State { get; internal set; } = TrialState.Queued;
    /// <summary>Number of times the trial was leased; the current attempt's number.</summary>
    public int Attempt { get; set; }
    public int Failures { get; set; }
    public string? Worker { get; set; }
    /// <summary>The pack of the current (or last) attempt; null when it trained alone.</summary>
    public string? Pack { get; set; }
    public DateTimeOffset LastHeartbeat { get; set; }
    public long Step { get; set; }
    public long TotalSteps { get; set; }
    public IReadOnlyDictionary<string, double> Metrics { get; set; } = new Dictionary<string, double>();
    public string? Error { get; set; }
    /// <summary>Newest first; the lease offers older ones as fallbacks for a corrupt newest.</summary>
    public List<TrialCheckpoint> Checkpoints { get; } = [];
    public List<(int Iteration, double Metric)> Curve { get; } = [];
    public TrialCompletion? Result { get; set; }
    /// <summary>Every lease, oldest first (replayed from the journal).</summary>
    public List<TrialAttempt> Attempts { get; } = [];
    /// <summary>The ledger's version when this trial last changed: what the dashboard's change poll compares.</summary>
    public long Version { get; set; }
    /// <summary>
    /// Progress reports heard since activation, thinned to at most <see cref="HistoryLimit"/> points (not journaled:
    /// a curve, not a decision; evaluations that drive early stopping are journaled as <see cref="Curve"/>).
    /// </summary>
    public List<MetricPoint> History { get; } = [];
    public const int HistoryLimit = 256;

    /// <summary>Adds a point; a resumed attempt that repeats steps replaces the later points; when full, every other older point goes.</summary>
    public void AddHistory(MetricPoint point)
    {
        History.RemoveAll(p => p.Step > point.Step || p.Step == point.Step && p.Metrics.Keys.All(point.Metrics.ContainsKey));
        History.Add(point);
        if (History.Count <= HistoryLimit) return;
        var kept = History.Where((_, i) => i % 2 == 0 || i == History.Count - 1).ToList();
        History.Clear();
        History.AddRange(kept);
    }
    public bool PruneRequested { get; set; }

    public bool IsTerminal => State is TrialState.Succeeded or TrialState.Failed or TrialState.Pruned or TrialState.Cancelled;
}
