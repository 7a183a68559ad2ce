using System.Text.Json.Nodes;
using Orchestrator.Sweeps;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Grains.Sweeps;

/// <summary>
/// What a sweep grain checks of a submitted plan before journaling it, without a YAML parser: the version, the name,
/// the spec's hash, every trial id (recomputed from its kind and parameters, <see cref="TrialIds"/>) and every config
/// against the option table's rules. The CLI checked the file fully; this guards the grain against a plan that a
/// different build or a hand-made client got wrong.
/// </summary>
public static class SweepPlanCheck
{
    /// <summary>The first broken invariant, in words; null when the plan holds.</summary>
    public static string? Problem(SweepPlan plan, string grainName)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Version != SweepPlan.CurrentVersion)
            return $"this cluster reads sweep plans of version {SweepPlan.CurrentVersion}, the client sent version {plan.Version}: submit with a CLI of the cluster's version";
        if (plan.Name != grainName)
            return $"the sweep file names '{plan.Name}', not '{grainName}'";
        if (CanonicalSpec.HashOf(plan.SpecJson) != plan.SpecHash)
            return "the plan's spec hash does not match its spec";
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var trial in plan.Trials)
        {
            if (!ids.Add(trial.Id)) return $"the plan lists trial {trial.Id} twice";
            var expected = TrialIds.Of(plan.Name, trial.Kind, trial.Parameters);
            if (expected != trial.Id) return $"trial {trial.Id}: its parameters give the id {expected}";
            if (JsonNode.Parse(trial.ConfigJson) is not JsonObject config) return $"trial {trial.Id}: its config is not an object";
            if (TrainingOptions.OptionProblems(config).FirstOrDefault() is { } problem) return $"trial {trial.Id}: {problem.Message}";
        }
        return null;
    }
}
