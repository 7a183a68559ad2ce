using System.Text.Json.Nodes;

namespace Orchestrator.Deploy.Tests;

/// <summary>
/// Kustomize reads files only under its root, so deploy/k8s/base/sweeps holds a copy of sweeps/*.yaml
/// (scripts/sync-k8s-sweeps.sh). The copy must not drift.
/// </summary>
public sealed class SweepsConfigMapTests
{
    private const string Fix = "run scripts/sync-k8s-sweeps.sh";

    private static string Source => RepositoryRoot.Combine("sweeps");
    private static string Copy => RepositoryRoot.Combine("deploy", "k8s", "base", "sweeps");

    private static string[] SweepFiles(string dir) =>
        Directory.Exists(dir)
            ? Directory.GetFiles(dir, "*.yaml").Select(f => Path.GetFileName(f)).Where(n => n != "kustomization.yaml").Order(StringComparer.Ordinal).ToArray()
            : [];

    [Fact]
    public void Kubernetes_copy_of_the_sweeps_equals_the_sweeps_folder_byte_for_byte()
    {
        var source = SweepFiles(Source);
        Assert.True(source.SequenceEqual(SweepFiles(Copy)), $"deploy/k8s/base/sweeps lists [{string.Join(", ", SweepFiles(Copy))}], sweeps/ has [{string.Join(", ", source)}]: {Fix}");
        foreach (var name in source)
            Assert.True(File.ReadAllBytes(Path.Combine(Source, name)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(Copy, name))),
                $"deploy/k8s/base/sweeps/{name} differs from sweeps/{name}: {Fix}");
    }

    [Fact]
    public void Sweeps_kustomization_generates_the_config_map_from_every_copied_file()
    {
        var kustomization = Kustomize.Parse(File.ReadAllText(Path.Combine(Copy, "kustomization.yaml"))).Single();
        var generator = kustomization["configMapGenerator"]!.AsArray().Single()!;
        Assert.Equal("orchestrator-sweeps", (string?)generator["name"]);
        var files = (generator["files"]?.AsArray() ?? []).Select(f => (string)f!).Order(StringComparer.Ordinal);
        Assert.True(files.SequenceEqual(SweepFiles(Copy)), $"kustomization.yaml lists [{string.Join(", ", files)}]: {Fix}");
    }

    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Submit_job_mounts_the_generated_sweeps_config_map_and_submits_a_sweep_from_it(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        var configMap = rendered.Generated("ConfigMap", "orchestrator-sweeps");
        var pod = Rendered.PodSpec(rendered.Single("Job", "submit-sweep"));

        var volume = pod["volumes"]!.AsArray().Single(v => v!["configMap"] is not null)!;
        Assert.Equal((string?)configMap["metadata"]!["name"], (string?)volume["configMap"]!["name"]);

        var container = Rendered.Containers(pod).Single();
        var mount = container["volumeMounts"]!.AsArray().Single(m => (string?)m!["name"] == (string?)volume["name"])!;
        Assert.Equal("/sweeps", (string?)mount["mountPath"]);

        var args = container["args"]!.AsArray().Select(a => (string)a!).ToList();
        Assert.Equal(["orchestrator"], container["command"]!.AsArray().Select(c => (string?)c));
        Assert.Equal("submit", args[0]);
        Assert.Equal("$(ORCHESTRATOR_CLUSTER)", args[args.IndexOf("--cluster") + 1]);
        var sweep = Path.GetFileName(args[1]);
        Assert.Equal($"/sweeps/{sweep}", args[1]);
        // The submitted sweep is one of sweeps/ (which has files: an empty folder would leave the Job nothing to submit).
        Assert.NotEmpty(SweepFiles(Source));
        Assert.True(configMap["data"]?[sweep] is not null, $"the Job submits {sweep}, which is not in sweeps/ (keys: {string.Join(", ", (configMap["data"]?.AsObject() ?? new JsonObject()).Select(kv => kv.Key))})");
    }
}
