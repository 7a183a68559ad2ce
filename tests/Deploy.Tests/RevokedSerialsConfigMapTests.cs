using System.Text.RegularExpressions;
using Orchestrator.Contracts.Hosting;

namespace Orchestrator.Deploy.Tests;

/// <summary>
/// The deny list of certificate serials: a generated ConfigMap (an edit renames it, so `kubectl apply -k` rolls the
/// silos), mounted read-only in every silo with ORCHESTRATOR_REVOKED_SERIALS pointing at it.
/// </summary>
public sealed class RevokedSerialsConfigMapTests
{
    [KubectlTheory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Silos_mount_the_generated_revoked_serials_ConfigMap_and_point_the_variable_at_it(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        var configMap = rendered.Generated("ConfigMap", "orchestrator-revoked-serials");
        var name = (string?)configMap["metadata"]!["name"];
        var volume = rendered.SiloPodSpec["volumes"]!.AsArray().Select(v => v!.AsObject()).Single(v => (string?)v["configMap"]?["name"] == name);
        var mount = rendered.SiloContainer["volumeMounts"]!.AsArray().Select(m => m!.AsObject()).Single(m => (string?)m["name"] == (string?)volume["name"]);
        Assert.True((bool?)mount["readOnly"] == true, $"{overlay}: the deny list is mounted writable");

        var variable = Rendered.Env(rendered.SiloContainer).Single(e => (string?)e["name"] == EnvironmentVariables.RevokedSerials);
        Assert.Equal($"{mount["mountPath"]}/serials", (string?)variable["value"]);
        Assert.NotNull(configMap["data"]?["serials"]);
    }

    [Fact]
    public void The_base_list_revokes_nothing_and_every_line_is_a_comment_or_a_hex_serial()
    {
        var lines = File.ReadAllLines(RepositoryRoot.Combine("deploy", "k8s", "base", "revoked-serials.txt"));
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Matches(new Regex("^(#.*|\\s*)$"), l));
    }
}
