using System.Text.Json;
using Orchestrator.Sweeps;
using Orchestrator.Grains.Scheduling;

namespace Orchestrator.Grains.Sweeps;

/// <summary>
/// Which queued trials one worker slot trains next. Alone: the first queued trial that fits the slot's memory. With
/// the sweep's `pack` on, that trial and the next queued ones that may share its frozen base
/// (<see cref="PackCompatibility"/>), in queue order, as many as `pack: K` allows or, for `auto`, as many as fit the
/// slot's memory (<see cref="PackSize"/>) and no more than an even share of the compatible queue over the sweep's
/// `parallel` slots (so one slot does not take every trial while another idles). Full fine-tuning and base trials
/// always train alone. Pack keys are derived from each trial's journaled config, so they are cached, not journaled.
/// </summary>
public sealed class PackFormation
{
    /// <summary>How far down the queue a pack looks for members: a grain call must stay short on a 10,000-trial sweep.</summary>
    public const int ScanLimit = 4096;
    private readonly Dictionary<string, string?> _keys = new(StringComparer.Ordinal);

    public IReadOnlyList<TrialEntry> Next(IEnumerable<TrialEntry> queued, SweepSettings settings, long freeMemoryBytes, int maxMembers)
    {
        TrialEntry? first = null;
        var rest = new List<TrialEntry>();
        foreach (var trial in queued.Take(ScanLimit))
        {
            if (first is null)
            {
                if (freeMemoryBytes > 0 && trial.Plan.MemoryBytes > freeMemoryBytes) continue;
                first = trial;
            }
            else rest.Add(trial);
        }
        if (first is null) return [];
        var pack = settings.PackSetting;
        if (pack.Mode == PackMode.Off || maxMembers <= 1 || KeyOf(first, settings) is not { } key) return [first];

        var compatible = rest.Where(t => KeyOf(t, settings) == key).ToList();
        var size = Math.Min(maxMembers, pack.Size);
        var estimate = Estimate(first);
        if (estimate is not null) size = Math.Min(size, PackSize.Fit(estimate, freeMemoryBytes, size));
        if (pack.Mode == PackMode.Auto)
            size = Math.Min(size, Math.Max(2, (int)Math.Ceiling((compatible.Count + 1) / (double)Math.Max(1, settings.Parallel))));
        return [first, .. compatible.Take(size - 1)];
    }

    /// <summary>The trial's pack key (null: it never packs); cached by trial id.</summary>
    public string? KeyOf(TrialEntry trial, SweepSettings settings)
    {
        if (_keys.TryGetValue(trial.Id, out var cached)) return cached;
        string? key = null;
        if (trial.Plan.Kind == TrialKind.Lora && trial.Plan.Config.Deserialize<TrainingConfig>() is { } config)
        {
            var baseSpec = settings.Base is { } b ? b.Deserialize<BaseModelSpec>() ?? new BaseModelSpec() : new BaseModelSpec();
            key = PackCompatibility.Key(config, baseSpec);
        }
        _keys[trial.Id] = key;
        return key;
    }

    private static MemoryEstimate? Estimate(TrialEntry trial) =>
        trial.Plan.Config.Deserialize<TrainingConfig>() is { } config ? TrialMemoryEstimates.EstimateFor(config) : null;
}
