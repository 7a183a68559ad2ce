using Orchestrator.Trainer.Benchmarks;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Packing;

public sealed class PackBenchmarkTests
{
    [Fact]
    public void The_benchmark_times_each_trial_alone_and_each_pack_and_splits_a_trial_step_into_its_phases()
    {
        var result = PackBenchmark.Run("mlp", [1, 2], steps: 8, threads: 1, batchings: [Orchestrator.Trainer.Packing.LowRankBatching.Padded]);

        Assert.Equal([1, 2], result.Rows.Select(r => r.K));
        var phases = Enum.GetValues<StepPhase>().Select(p => p.ToString().ToLowerInvariant()).ToList();
        foreach (var row in result.Rows)
        {
            Assert.True(row.AloneTrialStepsPerSecond > 0 && row.PackedTrialStepsPerSecond["Padded"] > 0, $"K={row.K}");
            Assert.Equal(phases, row.AlonePhaseMilliseconds.Keys);
            Assert.Equal(phases, row.PackedPhaseMilliseconds.Keys);
            Assert.True(row.AlonePhaseMilliseconds["forward"] > 0 && row.PackedPhaseMilliseconds["forward"] > 0, $"K={row.K}");
            Assert.True(row.AlonePhaseMilliseconds["optimizer"] > 0 && row.PackedPhaseMilliseconds["optimizer"] > 0, $"K={row.K}");
        }
        // A stacked pack clips once for all its members; a pack of one clips member by member inside its optimizer phase.
        Assert.True(result.Rows.Single(r => r.K == 2).PackedPhaseMilliseconds["clip"] > 0);
    }

    [Fact]
    public void Phases_add_up_per_step_and_per_trial_step()
    {
        var phases = new StepPhases();
        phases.Begin();
        Thread.Sleep(5);
        phases.End(StepPhase.Forward);
        phases.End(StepPhase.Optimizer);
        Assert.Equal(1, phases.Steps);
        var perStep = phases.PerTrialStep();
        Assert.True(perStep["forward"] >= 4, $"{perStep["forward"]} ms");
        Assert.Equal(perStep["forward"] / 4, phases.PerTrialStep(4)["forward"], 9);
        phases.Reset();
        Assert.Equal(0, phases.Steps);
        Assert.All(phases.PerTrialStep().Values, v => Assert.Equal(0, v));
    }
}
