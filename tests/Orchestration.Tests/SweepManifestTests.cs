using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Orchestrator.Contracts.Sweeps;
using Orchestrator.Contracts.Trials;
using Orchestrator.Grains.Sweeps;
using Orchestrator.Sweeps;

namespace Orchestrator.Orchestration.Tests;

/// <summary>manifest.json is written straight to a buffer; its text must stay what a node tree of the same fields gives.</summary>
public sealed class SweepManifestTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private const string Yaml = """
        name: manifest
        seed: 7
        task: { model: mlp, dataset: mnist }
        metric: { name: test_accuracy, goal: maximize }
        method: grid
        baselines: [full]
        parameters:
          rank: { values: [1, 2, 4] }
          lr: { values: [1e-3] }
          target_modules: { value: [l1, l2] }
          max_steps: { value: 10 }
        """;

    [Fact]
    public void The_manifest_is_the_text_of_its_node_tree()
    {
        var ledger = new SweepLedger();
        ledger.Apply(SweepPlan.Of(SweepFile.Parse(Yaml, "manifest.yaml")).Submitted(T0));
        var ids = ledger.Trials.Select(t => t.Id).ToList();
        ledger.Apply(new TrialLeased(T0, ids[0], 1, "s1/0"));
        ledger.Apply(new TrialCompleted(T0, ids[0], 1, new(ids[0], 1,
            new Dictionary<string, double> { ["test_accuracy"] = 0.9, ["val_loss"] = double.NaN, ["train_loss"] = double.PositiveInfinity },
            100, 1000, 10, 1.5, false, "sha \"quoted\" é", null)));
        ledger.Apply(new TrialLeased(T0, ids[1], 1, "s1/1"));

        Assert.Equal(NodeTree("manifest", ledger), SweepManifest.Json("manifest", ledger));
    }

    /// <summary>How the manifest was written before: a node tree, each config parsed again.</summary>
    private static string NodeTree(string sweep, SweepLedger ledger)
    {
        var indented = new JsonSerializerOptions { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
        var datasets = JsonNode.Parse(SweepManifest.Json(sweep, new SweepLedger()))!["datasets"]!.AsObject().Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value!.GetValue<string>()));
        var manifest = new JsonObject
        {
            ["sweep"] = sweep,
            ["spec_sha256"] = ledger.Spec?.Hash,
            ["spec"] = ledger.YamlText,
            ["spec_file"] = ledger.FileName,
            ["state"] = ledger.State.ToString().ToLowerInvariant(),
            ["orchestrator_version"] = typeof(SweepManifest).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion,
            ["torchsharp_version"] = JsonNode.Parse(SweepManifest.Json(sweep, new SweepLedger()))!["torchsharp_version"]?.GetValue<string>(),
            ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            ["datasets"] = new JsonObject(datasets),
            ["trials"] = new JsonArray([.. ledger.Trials.Select(t => (JsonNode)new JsonObject
            {
                ["id"] = t.Id,
                ["kind"] = t.Plan.Kind.Name(),
                ["state"] = t.State.ToString().ToLowerInvariant(),
                ["parameters"] = new JsonObject(t.Plan.Parameters.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value.ToJson()))),
                ["config"] = JsonNode.Parse(t.Plan.ConfigJson),
                ["metrics"] = new JsonObject(t.Metrics.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
                ["adapter_sha256"] = t.Result?.AdapterSha256,
            })]),
        };
        return manifest.ToJsonString(indented);
    }
}
