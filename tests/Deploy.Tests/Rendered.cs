using System.Text.Json.Nodes;

namespace Orchestrator.Deploy.Tests;

/// <summary>The manifests of one rendered kustomization, with the lookups the tests share.</summary>
internal sealed record Rendered(string Name, IReadOnlyList<JsonObject> Manifests)
{
    public const string SiloDeployment = "orchestrator-silo";

    public IEnumerable<JsonObject> OfKind(string kind) =>
        Manifests.Where(m => (string?)m["kind"] == kind);

    public JsonObject Single(string kind, string name) =>
        OfKind(kind).SingleOrDefault(m => (string?)m["metadata"]!["name"] == name)
        ?? throw new Xunit.Sdk.XunitException($"{Name}: no {kind} named {name}");

    /// <summary>The one generated object whose name is `{prefix}-{hash}`.</summary>
    public JsonObject Generated(string kind, string prefix) =>
        OfKind(kind).SingleOrDefault(m => ((string?)m["metadata"]!["name"])!.StartsWith(prefix + "-", StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"{Name}: no generated {kind} named {prefix}-<hash>");

    public JsonObject SiloPodSpec => PodSpec(Single("Deployment", SiloDeployment));

    public JsonObject SiloContainer =>
        Containers(SiloPodSpec).Single(c => (string?)c["name"] == "silo");

    /// <summary>Every object that runs pods, with its pod spec.</summary>
    public IEnumerable<(JsonObject Workload, JsonObject PodSpec)> Workloads =>
        Manifests.Where(m => (string?)m["kind"] is "Deployment" or "StatefulSet" or "DaemonSet" or "Job" or "ReplicaSet" or "Pod" or "CronJob")
            .Select(m => (m, PodSpec(m)));

    public IEnumerable<(string Where, JsonObject Container)> AllContainers =>
        Workloads.SelectMany(w => Containers(w.PodSpec, includeInit: true)
            .Select(c => ($"{Name}: {w.Workload["kind"]}/{w.Workload["metadata"]!["name"]} container {c["name"]}", c)));

    public static JsonObject PodSpec(JsonObject workload) => (string?)workload["kind"] switch
    {
        "Pod" => workload["spec"]!.AsObject(),
        "CronJob" => workload["spec"]!["jobTemplate"]!["spec"]!["template"]!["spec"]!.AsObject(),
        _ => workload["spec"]!["template"]!["spec"]!.AsObject(),
    };

    public static IEnumerable<JsonObject> Containers(JsonObject podSpec, bool includeInit = false) =>
        (includeInit ? new[] { "initContainers", "containers" } : ["containers"])
            .SelectMany(key => podSpec[key]?.AsArray() ?? [])
            .Select(c => c!.AsObject());

    public static IEnumerable<JsonObject> Env(JsonObject container) =>
        (container["env"]?.AsArray() ?? []).Select(e => e!.AsObject());
}
