using System.Text.Json;
using Orchestrator.Sweeps;

namespace Orchestrator.Grains.Sweeps;

/// <summary>
/// A sweep as the CLI submits it: what the one parser decided from the file, once — the canonical spec and its hash,
/// the settings, every planned trial with its trainer config — and the YAML text only as a document for people
/// (spec.yaml). The sweep grain checks the plan's invariants (<see cref="SweepPlanCheck"/>) and journals it as it came;
/// nothing after the CLI parses YAML. Versioned: a grain refuses a plan of a version it does not read.
/// </summary>
/// <param name="Settings">Travels as its journal JSON (<see cref="SweepPlanSurrogates"/>), the form the journal keeps it in.</param>
/// <param name="Trials">Every planned trial (a bayes sweep: only its baselines; TPE suggests the rest as results arrive).</param>
/// <param name="RunCap">The file's run_cap: raising it on a resubmission extends a sweep.</param>
[GenerateSerializer, Immutable, Alias("SweepPlan")]
public sealed record SweepPlan(
    [property: Id(0)] int Version,
    [property: Id(1)] string Name,
    [property: Id(2)] string FileName,
    [property: Id(3)] string YamlText,
    [property: Id(4)] string SpecJson,
    [property: Id(5)] string SpecHash,
    [property: Id(6)] SweepSettings Settings,
    [property: Id(7)] PlannedTrial[] Trials,
    [property: Id(8)] int RunCap)
{
    /// <summary>The plan format this build writes and reads.</summary>
    public const int CurrentVersion = 1;

    public CanonicalSpec Spec => new(SpecJson, SpecHash);

    public static SweepPlan Of(SweepSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var canonical = CanonicalSpec.Of(spec);
        return new SweepPlan(CurrentVersion, spec.Name, spec.SourceName, spec.SourceText, canonical.Json, canonical.Hash,
            SweepSettings.Of(spec), [.. PlannedTrial.Of(spec)], spec.RunCap);
    }

    /// <summary>The journal event of a first submission: the plan exactly as it came.</summary>
    public SweepSubmitted Submitted(DateTimeOffset at) =>
        new(at, YamlText, FileName, SpecHash, JsonDocument.Parse(SpecJson).RootElement.Clone(), Settings, Trials);

    /// <summary>The canonical spec a submission recorded (null in a legacy journal).</summary>
    public static CanonicalSpec? CanonicalOf(SweepSubmitted submitted) =>
        submitted is { SpecHash: { } hash, Spec: { } json } ? new CanonicalSpec(json.GetRawText(), hash) : null;
}
