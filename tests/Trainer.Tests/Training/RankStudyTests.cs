using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

/// <summary>One pretrained base (the study's protocol, shortened to 1 epoch of adaptation) shared by the rank tests.</summary>
public sealed class PretrainedMnistBase : IDisposable
{
    private readonly TestWorkspace _workspace = new();
    private readonly Dictionary<string, TrainingOutcome> _outcomes = [];
    private readonly Lock _gate = new();

    public BaseModelSpec Spec { get; } = new() { Pretrain = new PretrainSpec() };

    public TrainingOutcome Run(AdapterKind adapter, int rank)
    {
        var name = $"{adapter.ConfigName()}-{rank}";
        lock (_gate)
        {
            if (_outcomes.TryGetValue(name, out var known)) return known;
            // alpha = rank keeps the update's scale rank-independent, as the study's unscaled A·B does.
            var config = new TrainingConfig
            {
                Model = "mlp", Dataset = "mnist", Adapter = adapter, Rank = rank, Alpha = rank, TargetModules = ["l1", "l2", "l3"],
                LearningRate = 1e-3, BatchSize = 256, Epochs = 2, Seed = 42,
            };
            var outcome = TrialTrainer.Run(new TrainingRequest(config, Spec, Path.Combine(_workspace.Root, name), Path.Combine(_workspace.Root, "bases")),
                null, CancellationToken.None);
            _outcomes[name] = outcome;
            return outcome;
        }
    }

    public string CacheRoot => Path.Combine(_workspace.Root, "bases");

    public void Dispose() => _workspace.Dispose();
}

public sealed class RankStudyTests(PretrainedMnistBase study) : IClassFixture<PretrainedMnistBase>
{
    private static double Accuracy(TrainingOutcome outcome) => outcome.Metrics[MetricNames.TestAccuracy];

    [Fact]
    public void Lora_rank_32_on_the_pretrained_mlp_lifts_test_accuracy_above_the_base()
    {
        var frozen = study.Run(AdapterKind.Base, 1);
        var adapted = study.Run(AdapterKind.Lora, 32);
        Assert.True(Accuracy(adapted) > Accuracy(frozen), $"rank 32: {Accuracy(adapted)}, base: {Accuracy(frozen)}");
        Assert.Equal(frozen.BaseModelHash, adapted.BaseModelHash);
    }

    [Fact]
    public void Rank_1_scores_below_rank_64_and_full_fine_tuning_at_least_matches_rank_1()
    {
        var rank1 = study.Run(AdapterKind.Lora, 1);
        var rank64 = study.Run(AdapterKind.Lora, 64);
        var full = study.Run(AdapterKind.Full, 1);
        Assert.True(Accuracy(rank1) < Accuracy(rank64), $"rank 1: {Accuracy(rank1)}, rank 64: {Accuracy(rank64)}");
        Assert.True(Accuracy(full) >= Accuracy(rank1), $"full: {Accuracy(full)}, rank 1: {Accuracy(rank1)}");
    }

    [Fact]
    public void The_base_is_pretrained_once_and_cached_under_the_hash_of_model_dataset_and_spec()
    {
        study.Run(AdapterKind.Lora, 32);
        var hash = BaseModelCache.Hash("mlp", "mnist", study.Spec);
        Assert.Equal(16, hash.Length);
        Assert.True(File.Exists(Path.Combine(study.CacheRoot, hash, BaseModelCache.ModelFile)));
        Assert.Single(Directory.GetDirectories(study.CacheRoot));
        Assert.NotEqual(hash, BaseModelCache.Hash("mlp", "mnist", study.Spec with { Pretrain = new PretrainSpec { Epochs = 4 } }));
    }

    [Fact]
    public void Concurrent_trials_needing_the_same_base_pretrain_it_only_once()
    {
        using var workspace = new TestWorkspace();
        var spec = new BaseModelSpec { Pretrain = new PretrainSpec { Epochs = 1, Seed = 9 } };
        var outcomes = Enumerable.Range(0, 3).AsParallel().WithDegreeOfParallelism(3).Select(i => TrialTrainer.Run(
            new TrainingRequest(new TrainingConfig { Rank = 2, Alpha = 2, TargetModules = ["l3"], MaxSteps = 2, Seed = i },
                spec, workspace.Sub($"trial-{i}"), workspace.Sub("bases")), null, CancellationToken.None)).ToList();

        Assert.Single(outcomes.Select(o => o.BaseModelHash).Distinct());
        var pretrained = Enumerable.Range(0, 3).Count(i =>
        {
            using var result = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(workspace.Sub($"trial-{i}"), TrialResult.FileName)));
            return result.RootElement.GetProperty("timings").GetProperty("pretrain_seconds").GetDouble() > 0;
        });
        Assert.Equal(1, pretrained);
    }
}
