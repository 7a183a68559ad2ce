using System.Text.Json.Nodes;

namespace Orchestrator.Deploy.Tests;

public sealed class PodSecurityTests
{
    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Every_container_requests_cpu_and_memory_and_has_a_memory_limit(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        Assert.NotEmpty(rendered.AllContainers);
        foreach (var (where, container) in rendered.AllContainers)
        {
            Assert.True(container["resources"]?["requests"]?["cpu"] is not null, $"{where}: no cpu request");
            Assert.True(container["resources"]?["requests"]?["memory"] is not null, $"{where}: no memory request");
            Assert.True(container["resources"]?["limits"]?["memory"] is not null, $"{where}: no memory limit");
        }
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Every_container_runs_non_root_on_a_read_only_root_without_privileges(string overlay)
    {
        foreach (var (where, container) in Kustomize.Render(overlay).AllContainers)
        {
            var context = container["securityContext"] as JsonObject;
            Assert.True(context is not null, $"{where}: no securityContext");
            Assert.True((bool?)context!["runAsNonRoot"] == true, $"{where}: runAsNonRoot is not true");
            Assert.True((long?)context["runAsUser"] is > 0, $"{where}: runAsUser is not a non-zero uid");
            Assert.True((bool?)context["readOnlyRootFilesystem"] == true, $"{where}: root filesystem is writable");
            Assert.True((bool?)context["allowPrivilegeEscalation"] == false, $"{where}: privilege escalation allowed");
            Assert.Equal(["ALL"], context["capabilities"]!["drop"]!.AsArray().Select(c => (string?)c));
            Assert.Equal("RuntimeDefault", (string?)context["seccompProfile"]?["type"]);
        }
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void No_pod_mounts_a_service_account_token(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        foreach (var (workload, podSpec) in rendered.Workloads)
            Assert.True((bool?)podSpec["automountServiceAccountToken"] == false, $"{workload["metadata"]!["name"]} mounts a token");
        var account = rendered.Single("ServiceAccount", "orchestrator");
        Assert.False((bool?)account["automountServiceAccountToken"]);
        // Redis clustering needs no Kubernetes API access: no RBAC at all.
        Assert.DoesNotContain(rendered.Manifests, m => (string?)m["kind"] is "Role" or "ClusterRole" or "RoleBinding" or "ClusterRoleBinding");
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Silo_writes_only_to_emptyDir_volumes_at_tmp_and_data(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        var volumes = rendered.SiloPodSpec["volumes"]!.AsArray().Select(v => v!.AsObject()).ToDictionary(v => (string)v["name"]!);
        // Read-only mounts (the TLS Secret) are not written to.
        var mounts = rendered.SiloContainer["volumeMounts"]!.AsArray()
            .Where(m => (bool?)m!["readOnly"] != true)
            .ToDictionary(m => (string)m!["mountPath"]!, m => (string)m!["name"]!);

        Assert.Equal(["/data", "/tmp"], mounts.Keys.Order());
        Assert.All(mounts.Values, name => Assert.NotNull(volumes[name]["emptyDir"]));
    }
}
