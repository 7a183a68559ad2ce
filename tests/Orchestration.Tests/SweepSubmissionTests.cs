using Orchestrator.Grains.Sweeps;
using System.Text.Json;
using Orchestrator.Contracts.Sweeps;
using Orchestrator.Storage;
using Orchestrator.TestServers;

namespace Orchestrator.Orchestration.Tests;

/// <summary>
/// Submitting sweeps/mnist-smoke.yaml to a real silo (no training slots): a resubmission is the same sweep only when
/// its canonical spec hash is the same; raising run_cap extends it, anything else is refused naming what changed.
/// Every accepted sweep has spec.yaml and manifest.json in the artifact store, written by the sweep grain.
/// </summary>
public sealed class SweepSubmissionTests : HandDrivenCluster
{
    private const string Name = "mnist-smoke";
    private static readonly string Smoke = File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "sweeps", "mnist-smoke.yaml"));
    private static string Edit(string yaml, string from, string to)
    {
        Assert.Contains(from, yaml);
        return yaml.Replace(from, to, StringComparison.Ordinal);
    }

    private static string WithRunCap(int cap) => Edit(Smoke, "method: grid\n", $"method: grid\nrun_cap: {cap}\n");

    private Task<SubmitResult> SubmitAsync(string yaml) => Cluster.Sweep(Name).SubmitAsync(yaml, "mnist-smoke.yaml");

    [Fact]
    public async Task Resubmitting_mnist_smoke_with_another_base_pretraining_is_refused_naming_the_changed_field()
    {
        var first = await Cluster.SubmitAsync(Name, Smoke);
        var trials = (await Cluster.Sweep(Name).GetTrialsAsync()).Select(t => t.TrialId).ToList();

        // The trial ids do not hash the base, so before the spec hash this was accepted as "nothing to add".
        var refused = await SubmitAsync(Edit(Smoke, "pretrain: { epochs: 1,", "pretrain: { epochs: 2,"));

        Assert.False(refused.Accepted);
        Assert.Equal(SubmitOutcome.SpecChanged, refused.Outcome);
        Assert.Contains("task.base.pretrain.epochs changed from 1 to 2", refused.Message);
        Assert.Equal(first.SpecHash, refused.SpecHash);
        Assert.Equal(trials, (await Cluster.Sweep(Name).GetTrialsAsync()).Select(t => t.TrialId));

        var twoChanges = await SubmitAsync(Edit(Edit(Smoke, "seed: 1\n", "seed: 2\n"), "goal: maximize", "goal: minimize"));
        Assert.Equal(SubmitOutcome.SpecChanged, twoChanges.Outcome);
        Assert.Contains("seed changed from 1 to 2", twoChanges.Message);
        Assert.Contains("metric.goal changed from maximize to minimize", twoChanges.Message);
    }

    [Fact]
    public async Task Raising_run_cap_extends_the_sweep_and_the_same_spec_again_adds_nothing()
    {
        var first = await Cluster.SubmitAsync(Name, WithRunCap(1));
        Assert.Equal((SubmitOutcome.Submitted, 2), (first.Outcome, first.TrialCount)); // rank 2 and its full baseline
        var before = (await Cluster.Sweep(Name).GetTrialsAsync()).Select(t => t.TrialId).ToList();

        var extended = await SubmitAsync(WithRunCap(2));
        Assert.Equal((true, SubmitOutcome.Extended, 3, 1), (extended.Accepted, extended.Outcome, extended.TrialCount, extended.AddedTrials));
        Assert.Equal(first.SpecHash, extended.SpecHash);
        var after = (await Cluster.Sweep(Name).GetTrialsAsync()).Select(t => t.TrialId).ToList();
        Assert.Equal(before, after.Take(2));

        // Same hash, same cap (and a new description, which the hash leaves out): nothing to add.
        var again = await SubmitAsync(Edit(WithRunCap(2), "description: Two tiny", "description: Still two tiny"));
        Assert.Equal((true, SubmitOutcome.Unchanged, 0), (again.Accepted, again.Outcome, again.AddedTrials));
    }

    [Fact]
    public async Task A_submitted_sweep_has_spec_yaml_and_manifest_json_in_the_artifact_store()
    {
        var result = await Cluster.SubmitAsync(Name, Smoke);

        var store = ArtifactStoreFactory.Create(Cluster.ArtifactsDir, "artifacts");
        Assert.Equal(Smoke, await store.ReadTextAsync(ArtifactPaths.Spec(Name), CancellationToken.None));
        using var manifest = JsonDocument.Parse(await store.ReadTextAsync(ArtifactPaths.Manifest(Name), CancellationToken.None));
        var root = manifest.RootElement;
        Assert.Equal(Name, root.GetProperty("sweep").GetString());
        Assert.Equal(result.SpecHash, root.GetProperty("spec_sha256").GetString());
        Assert.Equal(Smoke, root.GetProperty("spec").GetString());
        var trials = await Cluster.Sweep(Name).GetTrialsAsync();
        Assert.Equal(trials.Select(t => t.TrialId), root.GetProperty("trials").EnumerateArray().Select(t => t.GetProperty("id").GetString()));
        Assert.All(root.GetProperty("trials").EnumerateArray(), t => Assert.True(t.GetProperty("config").GetProperty("seed").GetInt64() > 0));
    }

    [Fact]
    public async Task A_sweeps_objectives_base_and_display_name_are_served_from_the_journal_not_the_file()
    {
        const string pareto = """
            name: Pareto Smoke
            task: { model: mlp, dataset: mnist }
            metrics:
              - { name: test_accuracy, goal: maximize }
              - { name: train_seconds, goal: minimize }
            parameters:
              rank: { values: [1, 2] }
            """;
        var result = await Cluster.Sweep("pareto-smoke").SubmitAsync(pareto, "pareto.yaml");
        Assert.True(result.Accepted, result.Message);

        var view = (await Cluster.Sweep("pareto-smoke").GetSpecAsync())!;
        Assert.Equal([new Orchestrator.Contracts.Trials.MetricObjective("test_accuracy", true), new Orchestrator.Contracts.Trials.MetricObjective("train_seconds", false)],
            view.AllObjectives);
        Assert.Equal("Pareto Smoke", view.Title);
        Assert.Null(view.BaseJson);

        await Cluster.SubmitAsync(Name, Smoke);
        var smoke = (await Cluster.Sweep(Name).GetSpecAsync())!;
        Assert.Contains("\"pretrain\"", smoke.BaseJson, StringComparison.Ordinal); // the base every lease carries
        Assert.Equal([new Orchestrator.Contracts.Trials.MetricObjective("test_accuracy", true)], smoke.AllObjectives);
    }
}
