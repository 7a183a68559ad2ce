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
        SweepSubmitted { Trials: null } s => SweepPlans.Submitted(s.At, SweepFile.Parse(s.YamlText, s.FileName)),
        SweepExtended { Trials: null } x => x with { Trials = PlannedTrial.Of(SweepFile.Parse(x.YamlText, fileName ?? "sweep.yaml")) },
        _ => e,
    };
}
