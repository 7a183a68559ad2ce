using Orchestrator.Trials.Metrics;
using Orchestrator.Contracts.Trials;
namespace Orchestrator.Sweeps.Tests;

public class ShippedSweepsTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(RepositoryPaths.Sweeps, "*.yaml").Order()) data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Shipped_sweep_validates_and_expands(string file)
    {
        var spec = SweepFile.Load(Path.Combine(RepositoryPaths.Sweeps, file));
        Assert.Equal(Path.GetFileNameWithoutExtension(file), spec.Name);
        // A bayes sweep plans nothing up front; its prior draws are what validation checks.
        var trials = spec.Method == SweepMethod.Bayes ? SweepExpander.PriorSample(spec) : SweepExpander.Expand(spec);
        Assert.NotEmpty(trials);
        Assert.Equal(trials.Count, trials.Select(t => t.TrialId).Distinct().Count());
    }

    [Theory]
    [InlineData("mnist-rank.yaml", 21, 3, 3)]
    [InlineData("transformer-target-modules.yaml", 6, 0, 0)]
    [InlineData("rank-alpha-grid.yaml", 6, 0, 0)]
    [InlineData("llama-tiny.yaml", 2, 0, 0)]
    [InlineData("mnist-rank-lr-asha.yaml", 28, 0, 0)]
    [InlineData("mnist-smoke.yaml", 2, 1, 0)]
    [InlineData("imdb-variants.yaml", 32, 2, 2)]
    [InlineData("imdb-instruct.yaml", 8, 2, 2)]
    public void Shipped_sweep_has_the_documented_trial_counts(string file, int lora, int full, int frozen)
    {
        var trials = SweepExpander.Expand(SweepFile.Load(Path.Combine(RepositoryPaths.Sweeps, file)));
        Assert.Equal((lora, full, frozen), (trials.Count(t => t.Kind == TrialKind.Lora), trials.Count(t => t.Kind == TrialKind.Full), trials.Count(t => t.Kind == TrialKind.Base)));
    }

    [Fact]
    public void The_rank_study_follows_the_seed_protocol()
    {
        var spec = SweepFile.Load(Path.Combine(RepositoryPaths.Sweeps, "mnist-rank.yaml"));
        var trials = SweepExpander.Expand(spec);
        Assert.Equal([1, 2, 4, 8, 16, 32, 64], trials.Where(t => t.Kind == TrialKind.Lora).Select(t => t.Config.Rank).Distinct());
        // The study's "alpha 1" adds B A unscaled: PEFT scaling alpha/r = 1. Batch 128 on the 8,000 shipped digits gives
        // the study's ~60 steps per epoch (60,000 digits at 1024).
        Assert.All(trials.Where(t => t.Kind == TrialKind.Lora), t => Assert.Equal((1.0, 2e-4, 5, 128), (t.Config.Alpha / t.Config.Rank, t.Config.LearningRate, t.Config.Epochs, t.Config.BatchSize)));
        Assert.Equal((5, 2e-4, 128), (spec.Task.Base!.Pretrain!.Epochs, spec.Task.Base.Pretrain.LearningRate, spec.Task.Base.Pretrain.BatchSize));
        Assert.Equal(2, spec.Parallel);
    }

    [Fact]
    public void The_decoder_study_crosses_rank_with_attention_or_all_linear_and_scores_the_frozen_base_on_the_same_examples()
    {
        var spec = SweepFile.Load(Path.Combine(RepositoryPaths.Sweeps, "imdb-instruct.yaml"));
        var trials = SweepExpander.Expand(spec);
        var lora = trials.Where(t => t.Kind == TrialKind.Lora).ToList();
        Assert.Equal([4, 16], lora.Select(t => t.Config.Rank).Distinct().Order());
        Assert.Equal(["[all-linear]", "[q_proj,v_proj]"], lora.Select(t => "[" + string.Join(",", t.Config.TargetModules) + "]").Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(TaskKind.InstructionLabels, MetricNames.TaskOf(spec.Task.Model, spec.Task.Dataset));
        // Nothing of a frozen decoder trains; it is evaluated on the prompts the adapters are, cut at the same seq_len.
        Assert.All(trials.Where(t => t.Kind == TrialKind.Base), t => Assert.Equal((128, 300), (t.Config.SequenceLength, t.Config.MaxEvalSamples)));
    }

    [Fact]
    public void The_asha_sweep_has_rungs_at_4_and_12_evaluations()
    {
        var spec = SweepFile.Load(Path.Combine(RepositoryPaths.Sweeps, "mnist-rank-lr-asha.yaml"));
        var asha = Assert.IsType<AshaSpec>(spec.EarlyTerminate);
        Assert.Equal([4, 12], EarlyStopping.AshaRungs.Milestones(asha.MinIter, asha.MaxIter, asha.Eta, 0));
    }
}
