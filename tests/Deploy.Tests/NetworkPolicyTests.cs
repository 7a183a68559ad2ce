using System.Text.Json.Nodes;
using Orchestrator.Contracts.Hosting;

namespace Orchestrator.Deploy.Tests;

public sealed class NetworkPolicyTests
{
    private const int Dns = 53, Redis = 6379, Https = 443, AzuriteBlob = 10000;

    private static JsonObject Policy(string overlay) => Kustomize.Render(overlay).Single("NetworkPolicy", "orchestrator-silo");

    private static long[] Ports(JsonNode rule) =>
        rule["ports"]!.AsArray().Select(p => (long)p!["port"]!).Order().ToArray();

    private static bool SelectsSilos(JsonNode? peer) =>
        (string?)peer?["podSelector"]?["matchLabels"]?["app.kubernetes.io/name"] == "orchestrator-silo";

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Policy_selects_the_silo_pods_for_ingress_and_egress(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        var spec = Policy(overlay)["spec"]!;
        var podLabels = rendered.Single("Deployment", Rendered.SiloDeployment)["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        Assert.All(spec["podSelector"]!["matchLabels"]!.AsObject(), kv => Assert.Equal((string?)kv.Value, (string?)podLabels[kv.Key]));
        Assert.Equal(["Ingress", "Egress"], spec["policyTypes"]!.AsArray().Select(t => (string?)t));
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Silos_admit_each_other_on_silo_and_gateway_ports_and_clients_only_on_the_gateway(string overlay)
    {
        var ingress = Policy(overlay)["spec"]!["ingress"]!.AsArray();
        Assert.Equal(2, ingress.Count);

        var fromSilos = ingress.Single(r => r!["from"]!.AsArray().All(SelectsSilos))!;
        Assert.Equal([SiloEndpoints.SiloPort, SiloEndpoints.GatewayPort], Ports(fromSilos));

        var fromClients = ingress.Single(r => !r!["from"]!.AsArray().All(SelectsSilos))!;
        Assert.Equal([SiloEndpoints.GatewayPort], Ports(fromClients));
        Assert.Contains(fromClients["from"]!.AsArray(), p => (string?)p!["podSelector"]?["matchLabels"]?["app.kubernetes.io/component"] == "client");
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Silos_reach_only_each_other_dns_redis_and_blob_storage(string overlay)
    {
        var egress = Policy(overlay)["spec"]!["egress"]!.AsArray();
        var toSilos = egress.Single(r => r!["to"] is JsonArray to && to.All(SelectsSilos))!;
        Assert.Equal([SiloEndpoints.SiloPort, SiloEndpoints.GatewayPort], Ports(toSilos));

        var elsewhere = egress.Where(r => r!["to"] is null).SelectMany(r => Ports(r!)).Distinct().Order();
        Assert.Equal([Dns, Https, Redis, AzuriteBlob], elsewhere);
        Assert.DoesNotContain(egress, r => r!["to"] is JsonArray to && !to.All(SelectsSilos));
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Submit_job_pods_are_clients_the_policy_admits(string overlay)
    {
        var job = Kustomize.Render(overlay).Single("Job", "submit-sweep");
        Assert.Equal("client", (string?)job["spec"]!["template"]!["metadata"]!["labels"]!["app.kubernetes.io/component"]);
    }
}
