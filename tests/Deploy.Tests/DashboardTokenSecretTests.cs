using Orchestrator.Contracts.Hosting;

namespace Orchestrator.Deploy.Tests;

/// <summary>The web dashboard's token reaches every silo from a Secret, never as a value in the manifests.</summary>
public sealed class DashboardTokenSecretTests
{
    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Silos_read_the_dashboard_token_from_the_orchestrator_dashboard_secret(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        var token = Rendered.Env(rendered.SiloContainer).Single(e => (string?)e["name"] == EnvironmentVariables.DashboardToken);
        Assert.Null(token["value"]);
        Assert.Equal("orchestrator-dashboard", (string?)token["valueFrom"]?["secretKeyRef"]?["name"]);
        Assert.Equal("token", (string?)token["valueFrom"]?["secretKeyRef"]?["key"]);
        // Required: a silo without its token would serve every sweep to whoever reaches port 8080.
        Assert.NotEqual(true, (bool?)token["valueFrom"]?["secretKeyRef"]?["optional"]);
        foreach (var configMap in rendered.OfKind("ConfigMap"))
            Assert.Null(configMap["data"]?[EnvironmentVariables.DashboardToken]);
    }

    [Fact]
    public void The_dev_secrets_script_creates_the_dashboard_token_from_a_file()
    {
        var script = File.ReadAllText(RepositoryRoot.Combine("deploy", "k8s", "overlays", "dev", "create-secrets.sh"));
        Assert.Contains("create secret generic orchestrator-dashboard --from-file=token=", script);
    }
}
