using System.Reflection;
using System.Text.Json.Nodes;
using Orchestrator.Contracts.Hosting;

namespace Orchestrator.Deploy.Tests;

/// <summary>The silo Deployment sets exactly what the silo reads: ports, health paths, variable names.</summary>
public sealed class SiloWiringTests
{
    // The silo host's shutdown timeout; the pod must outlive it so a drain can finish.
    private const int HostShutdownTimeoutSeconds = 120;

    private static readonly HashSet<string> KnownVariables = typeof(EnvironmentVariables)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral)
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToHashSet(StringComparer.Ordinal);

    private static JsonObject EnvVar(JsonObject container, string name) =>
        Rendered.Env(container).SingleOrDefault(e => (string?)e["name"] == name)
        ?? throw new Xunit.Sdk.XunitException($"container {container["name"]} does not set {name}");

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Pod_name_ip_and_namespace_come_from_the_downward_API(string overlay)
    {
        var silo = Kustomize.Render(overlay).SiloContainer;
        Assert.Equal("metadata.name", (string?)EnvVar(silo, EnvironmentVariables.PodName)["valueFrom"]?["fieldRef"]?["fieldPath"]);
        Assert.Equal("status.podIP", (string?)EnvVar(silo, EnvironmentVariables.PodIp)["valueFrom"]?["fieldRef"]?["fieldPath"]);
        Assert.Equal("metadata.namespace", (string?)EnvVar(silo, EnvironmentVariables.PodNamespace)["valueFrom"]?["fieldRef"]?["fieldPath"]);
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Orleans_service_and_cluster_ids_come_from_the_pod_labels(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        var labels = rendered.Single("Deployment", Rendered.SiloDeployment)["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        foreach (var (variable, label) in new[] { (EnvironmentVariables.ServiceId, "orleans/serviceId"), (EnvironmentVariables.ClusterId, "orleans/clusterId") })
        {
            Assert.False(string.IsNullOrEmpty((string?)labels[label]), $"pod label {label} is missing");
            Assert.Equal($"metadata.labels['{label}']", (string?)EnvVar(rendered.SiloContainer, variable)["valueFrom"]?["fieldRef"]?["fieldPath"]);
        }
    }

    /// <summary>Found by tests/Container.Tests: a Job with the CLI's default ids ("lora-orchestrator"/"default") saw no gateway.</summary>
    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void The_submit_job_joins_the_silos_Orleans_service_and_cluster(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        var siloLabels = rendered.Single("Deployment", Rendered.SiloDeployment)["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        var job = rendered.Single("Job", "submit-sweep");
        var jobLabels = job["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        var submit = Rendered.Containers(Rendered.PodSpec(job)).Single();
        foreach (var (variable, label) in new[] { (EnvironmentVariables.ServiceId, "orleans/serviceId"), (EnvironmentVariables.ClusterId, "orleans/clusterId") })
        {
            Assert.Equal((string?)siloLabels[label], (string?)jobLabels[label]);
            Assert.Equal($"metadata.labels['{label}']", (string?)EnvVar(submit, variable)["valueFrom"]?["fieldRef"]?["fieldPath"]);
        }
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Container_ports_are_the_silo_endpoints(string overlay)
    {
        var ports = Kustomize.Render(overlay).SiloContainer["ports"]!.AsArray()
            .ToDictionary(p => (string)p!["name"]!, p => (long)p!["containerPort"]!);
        Assert.Equal(new Dictionary<string, long>
        {
            ["silo"] = SiloEndpoints.SiloPort,
            ["gateway"] = SiloEndpoints.GatewayPort,
            ["http"] = SiloEndpoints.HttpPort,
        }, ports);
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Probes_hit_the_silo_health_endpoints_on_the_http_port(string overlay)
    {
        var silo = Kustomize.Render(overlay).SiloContainer;
        foreach (var (probe, path) in new[] { ("startupProbe", SiloEndpoints.StartupPath), ("readinessProbe", SiloEndpoints.ReadyPath), ("livenessProbe", SiloEndpoints.LivePath) })
        {
            Assert.Equal(path, (string?)silo[probe]?["httpGet"]?["path"]);
            Assert.Equal("http", (string?)silo[probe]?["httpGet"]?["port"]);
        }
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Every_variable_the_silo_and_the_submit_job_get_is_an_EnvironmentVariables_name(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        var containers = new[] { rendered.SiloContainer, Rendered.Containers(Rendered.PodSpec(rendered.Single("Job", "submit-sweep"))).Single() };
        foreach (var container in containers)
        {
            foreach (var env in Rendered.Env(container))
                Assert.True(KnownVariables.Contains((string)env["name"]!), $"{container["name"]} sets {env["name"]}, which no EnvironmentVariables constant names");
            foreach (var source in container["envFrom"]?.AsArray() ?? [])
            {
                var configMap = rendered.Single("ConfigMap", (string)source!["configMapRef"]!["name"]!);
                foreach (var key in configMap["data"]!.AsObject().Select(kv => kv.Key))
                    Assert.True(KnownVariables.Contains(key), $"ConfigMap {configMap["metadata"]!["name"]} key {key} is no EnvironmentVariables constant");
            }
        }
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Storage_connection_string_comes_from_a_secret_reference(string overlay)
    {
        var storage = EnvVar(Kustomize.Render(overlay).SiloContainer, EnvironmentVariables.Storage);
        Assert.Null(storage["value"]);
        Assert.StartsWith("orchestrator-storage", (string?)storage["valueFrom"]?["secretKeyRef"]?["name"]);
        Assert.Equal("connectionString", (string?)storage["valueFrom"]?["secretKeyRef"]?["key"]);
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void A_rollout_adds_a_silo_before_it_removes_one(string overlay)
    {
        var strategy = Kustomize.Render(overlay).Single("Deployment", Rendered.SiloDeployment)["spec"]!["strategy"]!;
        Assert.Equal("RollingUpdate", (string?)strategy["type"]);
        Assert.Equal(0, (long?)strategy["rollingUpdate"]?["maxUnavailable"]);
        Assert.Equal(1, (long?)strategy["rollingUpdate"]?["maxSurge"]);
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Grace_period_outlasts_the_host_shutdown_timeout(string overlay)
    {
        var grace = (long?)Kustomize.Render(overlay).SiloPodSpec["terminationGracePeriodSeconds"];
        Assert.True(grace > HostShutdownTimeoutSeconds, $"terminationGracePeriodSeconds {grace} <= {HostShutdownTimeoutSeconds}");
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Disruption_budget_lets_one_silo_go_at_a_time(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        var budget = rendered.OfKind("PodDisruptionBudget").Single();
        Assert.Equal(1, (long?)budget["spec"]!["maxUnavailable"]);
        var podLabels = rendered.Single("Deployment", Rendered.SiloDeployment)["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        Assert.All(budget["spec"]!["selector"]!["matchLabels"]!.AsObject(), kv => Assert.Equal((string?)kv.Value, (string?)podLabels[kv.Key]));
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Gateway_service_forwards_the_gateway_and_dashboard_ports_to_silos(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        var service = rendered.Single("Service", "orchestrator-gateway");
        var ports = service["spec"]!["ports"]!.AsArray();
        var port = ports.Single(p => (string?)p!["name"] == "gateway")!;
        Assert.Equal(SiloEndpoints.GatewayPort, (long?)port["port"]);
        Assert.Equal("gateway", (string?)port["targetPort"]);
        // The web dashboard, reached with a port-forward to this service (no ingress by default).
        var http = ports.Single(p => (string?)p!["name"] == "http")!;
        Assert.Equal(SiloEndpoints.HttpPort, (long?)http["port"]);
        Assert.Equal("http", (string?)http["targetPort"]);
        var podLabels = rendered.Single("Deployment", Rendered.SiloDeployment)["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        Assert.All(service["spec"]!["selector"]!.AsObject(), kv => Assert.Equal((string?)kv.Value, (string?)podLabels[kv.Key]));
    }

    [KubectlFact]
    public void Replicas_are_two_in_dev_and_three_in_production()
    {
        Assert.Equal(2, (long?)Kustomize.Render(Overlays.Dev).Single("Deployment", Rendered.SiloDeployment)["spec"]!["replicas"]);
        Assert.Equal(3, (long?)Kustomize.Render(Overlays.Production).Single("Deployment", Rendered.SiloDeployment)["spec"]!["replicas"]);
    }

    [KubectlFact]
    public void Dev_silos_cluster_through_the_in_cluster_redis()
    {
        var rendered = Kustomize.Render(Overlays.Dev);
        var config = rendered.Generated("ConfigMap", "orchestrator-config");
        Assert.Equal("redis://redis:6379", (string?)config["data"]![EnvironmentVariables.Cluster]);
        Assert.NotNull(rendered.Single("Service", "redis"));
        Assert.NotNull(rendered.Single("Service", "azurite"));
    }
}
