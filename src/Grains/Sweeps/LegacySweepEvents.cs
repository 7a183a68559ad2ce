using Orchestrator.Sweeps;

namespace Orchestrator.Grains.Sweeps;

/// <summary>
/// Journals written before submissions recorded their plans hold only the YAML. This turns such an event into
/// today's shape, once, at activation, by parsing and expanding it the way that version did; the ledger itself
/// never parses. New journals never take this path.
/// </summary>
public static class LegacySweepEvents
{
    public static SweepEvent Upgrade(SweepEvent e, string? fileName) => e switch
    {
        SweepSubmitted { Trials: null } s => SweepPlan.Of(SweepFile.Parse(s.YamlText, s.FileName)).Submitted(s.At),
        SweepSubmitted { Settings: { Objectives: null } settings } s => s with { Settings = WithObjectives(settings, s) },
        SweepExtended { Trials: null } x => x with { Trials = PlannedTrial.Of(SweepFile.Parse(x.YamlText, fileName ?? "sweep.yaml")) },
        _ => e,
    };

    /// <summary>
    /// Journals from before the objectives and display name were recorded: both read from the YAML once here, so the
    /// report, the Pareto front and the leaderboard take them from the journal and never parse the file.
    /// </summary>
    private static SweepSettings WithObjectives(SweepSettings settings, SweepSubmitted submitted)
    {
        try
        {
            var spec = SweepFile.Parse(submitted.YamlText, submitted.FileName);
            return settings with { Objectives = SweepSettings.ObjectivesOf(spec), DisplayName = spec.DisplayName.Length > 0 ? spec.DisplayName : spec.Name };
        }
        catch (SweepValidationException)
        {
            // A file this version reads differently still has its journaled metric.
            return settings with { Objectives = [new MetricObjective(settings.Metric, settings.Maximize)] };
        }
    }
}
