using System.Text.Json.Nodes;
using Orchestrator.Contracts.Hosting;

namespace Orchestrator.Deploy.Tests;

/// <summary>
/// Who may talk to the cluster, as deployed: silos and the submit Job mount their TLS Secret read-only and point the
/// ORCHESTRATOR_TLS_* variables into it; Redis' password comes from a Secret, in dev Redis requires it; no overlay
/// carries a certificate, key or password (dev's ./create-secrets.sh makes them, production expects the user's).
/// </summary>
public sealed class TlsSecretTests
{
    private const string MountPath = "/etc/orchestrator/tls";

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Silos_mount_the_silo_TLS_secret_read_only_and_read_their_certificate_from_it(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        AssertMountsTls(rendered, rendered.SiloPodSpec, rendered.SiloContainer, "orchestrator-silo-tls");
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void The_submit_job_mounts_the_client_TLS_secret_read_only_and_presents_it(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        var job = Rendered.PodSpec(rendered.Single("Job", "submit-sweep"));
        AssertMountsTls(rendered, job, Rendered.Containers(job).Single(), "orchestrator-client-tls");
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Silos_and_the_submit_job_read_the_Redis_password_from_the_orchestrator_redis_secret(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        var job = Rendered.Containers(Rendered.PodSpec(rendered.Single("Job", "submit-sweep"))).Single();
        foreach (var container in new[] { rendered.SiloContainer, job })
        {
            var password = Rendered.Env(container).Single(e => (string?)e["name"] == EnvironmentVariables.RedisPassword);
            Assert.Null(password["value"]);
            Assert.Equal("orchestrator-redis", (string?)password["valueFrom"]?["secretKeyRef"]?["name"]);
            Assert.Equal("password", (string?)password["valueFrom"]?["secretKeyRef"]?["key"]);
        }
    }

    [KubectlFact]
    public void Dev_redis_requires_the_password_of_the_same_secret()
    {
        var rendered = Kustomize.Render(Overlays.Dev);
        var redis = Rendered.Containers(Rendered.PodSpec(rendered.Single("Deployment", "redis"))).Single();
        var args = redis["args"]!.AsArray().Select(a => (string?)a).ToList();
        var flag = args.IndexOf("--requirepass");
        Assert.True(flag >= 0, $"redis args: {string.Join(' ', args)}");
        Assert.Equal("$(REDIS_PASSWORD)", args[flag + 1]);
        foreach (var name in new[] { "REDIS_PASSWORD", "REDISCLI_AUTH" })
        {
            var env = Rendered.Env(redis).Single(e => (string?)e["name"] == name);
            Assert.Equal("orchestrator-redis", (string?)env["valueFrom"]?["secretKeyRef"]?["name"]);
        }
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void No_overlay_carries_a_TLS_or_Redis_secret_itself(string overlay)
    {
        var names = Kustomize.Render(overlay).OfKind("Secret").Select(s => (string?)s["metadata"]!["name"]).ToList();
        Assert.DoesNotContain(names, n => n is not null && (n.Contains("tls", StringComparison.Ordinal) || n.Contains("redis", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_dev_secrets_script_creates_every_secret_the_manifests_mount()
    {
        var script = File.ReadAllText(RepositoryRoot.Combine("deploy", "k8s", "overlays", "dev", "create-secrets.sh"));
        Assert.Contains("certs create", script);
        Assert.Contains("orchestrator-$identity-tls", script);
        Assert.Contains("for identity in silo client", script);
        Assert.Contains("create secret generic orchestrator-redis --from-file=password=", script);
        Assert.DoesNotContain("--from-literal", script.Split('\n').Where(l => !l.TrimStart().StartsWith('#')).Aggregate("", string.Concat));
    }

    private static void AssertMountsTls(Rendered rendered, JsonObject podSpec, JsonObject container, string secret)
    {
        var volume = podSpec["volumes"]!.AsArray().Select(v => v!.AsObject()).SingleOrDefault(v => (string?)v["secret"]?["secretName"] == secret)
            ?? throw new Xunit.Sdk.XunitException($"{rendered.Name}: no volume from Secret {secret}");
        var mount = container["volumeMounts"]!.AsArray().Select(m => m!.AsObject()).Single(m => (string?)m["name"] == (string?)volume["name"]);
        Assert.Equal(MountPath, (string?)mount["mountPath"]);
        Assert.True((bool?)mount["readOnly"] == true, $"{rendered.Name}: {secret} is mounted writable");
        Assert.Equal(0, ((long?)volume["secret"]!["defaultMode"] ?? 0) & 0b111); // nothing for "other"

        var config = rendered.Generated("ConfigMap", "orchestrator-config")["data"]!.AsObject();
        foreach (var (variable, file) in new[] { (EnvironmentVariables.TlsCertificate, "tls.crt"), (EnvironmentVariables.TlsKey, "tls.key"), (EnvironmentVariables.TlsAuthority, "ca.crt") })
        {
            var fromEnv = Rendered.Env(container).SingleOrDefault(e => (string?)e["name"] == variable);
            var fromConfig = fromEnv is null && (container["envFrom"]?.AsArray().Any(e => ((string?)e!["configMapRef"]?["name"])?.StartsWith("orchestrator-config", StringComparison.Ordinal) == true) ?? false);
            Assert.True(fromConfig || (string?)fromEnv?["valueFrom"]?["configMapKeyRef"]?["key"] == variable, $"{rendered.Name}: {container["name"]} does not read {variable}");
            Assert.Equal($"{MountPath}/{file}", (string?)config[variable]);
        }
    }
}
