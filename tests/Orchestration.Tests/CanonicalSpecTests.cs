using Orchestrator.Contracts.Sweeps;
using Orchestrator.Grains.Journal;
using Orchestrator.Grains.Sweeps;
using Orchestrator.Sweeps;

namespace Orchestrator.Orchestration.Tests;

/// <summary>What counts as "the same sweep" (the canonical spec hash), and how a difference is named.</summary>
public sealed class CanonicalSpecTests
{
    private const string Spec = """
        name: canon
        description: first words
        seed: 3
        task: { model: mlp, dataset: mnist }
        metric: { name: test_accuracy, goal: maximize }
        method: grid
        run_cap: 2
        parameters:
          rank: { values: [1, 2, 4] }
          lr: { value: 0.001 }
        """;

    private static CanonicalSpec Of(string yaml, string file = "canon.yaml") => CanonicalSpec.Of(SweepFile.Parse(yaml, file));

    [Fact]
    public void Run_cap_description_file_name_and_yaml_spelling_do_not_change_the_hash()
    {
        var respelled = """
            name: canon
            description: other words
            seed: 3
            task:
              model: mlp
              dataset: mnist
            metric: { goal: maximize, name: test_accuracy }
            method: grid
            run_cap: 3
            parameters:
              rank:
                values: [1, 2, 4]
              lr: { value: 1.0e-3 }
            """;
        Assert.Equal(Of(Spec).Hash, Of(respelled, "elsewhere/renamed.yaml").Hash);
        Assert.Empty(CanonicalSpec.Diff(Of(Spec), Of(respelled)));
    }

    [Fact]
    public void Every_changed_added_or_removed_field_is_named()
    {
        var changed = Spec.Replace("seed: 3", "seed: 4").Replace("values: [1, 2, 4]", "values: [1, 2, 8]")
            .Replace("  lr: { value: 0.001 }", "  dropout: { value: 0.1 }");

        var diff = CanonicalSpec.Diff(Of(Spec), Of(changed));

        Assert.Equal(["seed changed from 3 to 4", "parameters.rank.values changed from [1,2,4] to [1,2,8]",
            "parameters.lr removed (was {\"value\":0.001})", "parameters.dropout added ({\"value\":0.1})"], diff);
    }

    [Fact]
    public void Reordering_parameters_changes_the_grid_order_and_so_the_hash()
    {
        var reordered = Spec.Replace("  rank: { values: [1, 2, 4] }\n  lr: { value: 0.001 }", "  lr: { value: 0.001 }\n  rank: { values: [1, 2, 4] }");
        Assert.NotEqual(Spec, reordered);

        Assert.Equal(["the order of parameters changed"], CanonicalSpec.Diff(Of(Spec), Of(reordered)));
    }

    [Fact]
    public void A_journal_from_before_plans_were_recorded_is_upgraded_once_into_todays_events()
    {
        // The shape journals had before submissions carried their plans: the YAML only.
        var legacy = JournalJson.Deserialize<SweepEvent>(
            """{"type":"submitted","yamlText":"name: canon\nseed: 3\ntask: { model: mlp, dataset: mnist }\nmetric: { name: test_accuracy, goal: maximize }\nmethod: grid\nrun_cap: 2\nparameters:\n  rank: { values: [1, 2, 4] }\n","fileName":"canon.yaml","at":"2026-01-01T00:00:00+00:00"}""");
        var ledger = new SweepLedger();
        Assert.Throws<InvalidOperationException>(() => ledger.Apply(legacy)); // the ledger itself never parses

        ledger.Apply(LegacySweepEvents.Upgrade(legacy, null));

        Assert.Equal(2, ledger.Trials.Count);
        Assert.Equal(SweepState.Running, ledger.State);
        Assert.Equal(("mlp", 2), (ledger.Settings!.Model, ledger.Settings.MaxFailures));
    }
}
