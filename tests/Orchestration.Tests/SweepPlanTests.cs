using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Contracts.Sweeps;
using Orchestrator.Grains.Sweeps;
using Orchestrator.Sweeps;
using Orchestrator.TestServers;

namespace Orchestrator.Orchestration.Tests;

/// <summary>
/// The CLI submits a typed plan, not YAML: the grain checks its invariants (version, name, spec hash, every trial id
/// recomputed from its parameters, every config against the option table) without a parser, and refuses a plan that
/// breaks one before anything is journaled.
/// </summary>
public sealed class SweepPlanTests : HandDrivenCluster
{
    private static string Sweep(string file) => Path.Combine(RepositoryRoot.Find(), "sweeps", file);

    [Theory]
    [InlineData("mnist-rank.yaml")]
    [InlineData("mnist-bayes.yaml")]
    [InlineData("mnist-pareto.yaml")]
    [InlineData("mnist-rank-lr-asha.yaml")]
    [InlineData("rank-alpha-grid.yaml")]
    [InlineData("transformer-target-modules.yaml")]
    [InlineData("llama-tiny.yaml")]
    public void The_plan_of_every_shipped_sweep_holds_its_invariants(string file)
    {
        var spec = SweepFile.Load(Sweep(file));
        var plan = SweepPlan.Of(spec);

        Assert.Null(SweepPlanCheck.Problem(plan, spec.Name));
        Assert.Equal(SweepExpander.Expand(spec).Select(t => t.TrialId), plan.Trials.Select(t => t.Id).Take(spec.Method == SweepMethod.Bayes ? 0 : int.MaxValue));
    }

    public static TheoryData<string, string> Tamperings => new()
    {
        { "version", "this cluster reads sweep plans of version 1, the client sent version 2" },
        { "name", "the sweep file names 'mnist-smoke', not 'someone-else'" },
        { "hash", "the plan's spec hash does not match its spec" },
        { "id", "its parameters give the id" },
        { "range", "rank must be" },
        { "duplicate", "twice" },
    };

    [Theory]
    [MemberData(nameof(Tamperings))]
    public async Task A_plan_that_breaks_an_invariant_is_refused_and_nothing_is_journaled(string tampering, string expected)
    {
        var plan = SweepPlan.Of(SweepFile.Load(Sweep("mnist-smoke.yaml")));
        var grainName = "mnist-smoke";
        var first = plan.Trials[0];
        plan = tampering switch
        {
            "version" => plan with { Version = 2 },
            "name" => ((Func<SweepPlan>)(() => { grainName = "someone-else"; return plan; }))(),
            "hash" => plan with { SpecJson = plan.SpecJson.Replace("\"seed\":1", "\"seed\":2", StringComparison.Ordinal) },
            "id" => plan with { Trials = [first with { Id = "t000000000000" }, .. plan.Trials[1..]] },
            "range" => plan with { Trials = [first with { Config = WithRank(first.Config, -3) }, .. plan.Trials[1..]] },
            "duplicate" => plan with { Trials = [first, first] },
            _ => throw new ArgumentOutOfRangeException(nameof(tampering)),
        };

        var result = await Cluster.Client.GetGrain<ISweepPlanGrain>(grainName).SubmitAsync(plan);

        Assert.False(result.Accepted);
        Assert.Equal(SubmitOutcome.Invalid, result.Outcome);
        Assert.Contains(expected, result.Message);
        Assert.Empty(await Cluster.Sweep(grainName).GetTrialsAsync());
        Assert.Null(await Cluster.Sweep(grainName).GetSpecAsync());
    }

    [Fact]
    public async Task The_plan_crosses_the_wire_typed_and_is_journaled_as_it_came()
    {
        var plan = SweepPlan.Of(SweepFile.Load(Sweep("mnist-smoke.yaml")));

        var result = await Cluster.Client.SubmitAsync(SweepFile.Load(Sweep("mnist-smoke.yaml")));

        Assert.True(result.Accepted, result.Message);
        Assert.Equal(plan.SpecHash, result.SpecHash);
        var trials = await Cluster.Sweep("mnist-smoke").GetTrialsAsync();
        Assert.Equal(plan.Trials.Select(t => t.Id), trials.Select(t => t.TrialId));
        Assert.Equal(plan.Trials.Select(t => t.Parameters), trials.Select(t => t.Parameters));
    }

    private static JsonElement WithRank(JsonElement config, int rank)
    {
        var node = JsonNode.Parse(config.GetRawText())!.AsObject();
        node["rank"] = rank;
        return JsonSerializer.SerializeToElement(node);
    }
}
