using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Models;
using Orchestrator.Trainer.Packing;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Safetensors;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trainer.Training;
using TorchSharp;
using Xunit.Abstractions;

namespace Orchestrator.Trainer.Tests.Packing;

public sealed class PackedTrainingTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>
    /// How far a packed member's metrics may lie from the same trial alone. The arithmetic is the same, but the frozen
    /// GEMMs run over K× the rows and the low-rank products go through bmm, so float sums are associated differently
    /// (~1e-7 relative per op); over these short runs the drift stays below 1e-4 relative on the losses, and
    /// accuracy may move by a couple of test examples out of 10,000.
    /// </summary>
    public const double LossTolerance = 1e-4;
    public const double AccuracyTolerance = 5e-4;

    private readonly TestWorkspace _workspace = new();
    private string? _baseCheckpoint;

    private string BaseCheckpoint => _baseCheckpoint ??= SaveBase(_workspace);

    private static string SaveBase(TestWorkspace workspace)
    {
        // Members of a pack share the frozen base: a saved one, so members may have their own seeds.
        var path = workspace.Sub("base.safetensors");
        using var model = new MlpModel(seed: 3);
        using var scope = torch.NewDisposeScope();
        SafetensorsFile.Write(path, model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach()));
        return path;
    }

    public void Dispose() => _workspace.Dispose();

    private static TrainingConfig Mlp(int rank, long seed, double lr, double dropout, int maxSteps = 20) => new()
    {
        Model = "mlp", Dataset = "mnist", Rank = rank, Alpha = rank, TargetModules = ["l1", "l2", "l3"], Dropout = dropout,
        BatchSize = 64, MaxSteps = maxSteps, EvalEvery = 10, LearningRate = lr, Schedule = ScheduleKind.Cosine, WarmupSteps = 2, Seed = seed,
    };

    private static readonly TrainingConfig[] FourMembers =
    [
        Mlp(rank: 2, seed: 1, lr: 1e-2, dropout: 0),
        Mlp(rank: 4, seed: 2, lr: 3e-2, dropout: 0.1),
        Mlp(rank: 8, seed: 3, lr: 2e-2, dropout: 0.2),
        Mlp(rank: 8, seed: 4, lr: 5e-3, dropout: 0),
    ];

    private TrainingRequest Request(string name, TrainingConfig config) =>
        new(config, new BaseModelSpec { Checkpoint = BaseCheckpoint }, _workspace.Sub(name), _workspace.Sub("bases"));

    private IReadOnlyList<PackMemberOutcome> Pack(string name, IReadOnlyList<TrainingConfig> configs, IReadOnlyList<ITrainingObserver?>? observers = null,
        LowRankBatching batching = LowRankBatching.Padded) =>
        PackedTrialTrainer.Run(configs.Select((c, i) => new PackMemberRequest(Request($"{name}-{i}", c), observers?[i])).ToList(),
            name, batching, CancellationToken.None);

    private byte[] Adapter(string trial) =>
        File.ReadAllBytes(Path.Combine(_workspace.Sub(trial), TrialTrainer.AdapterFolder, PeftAdapter.WeightsFileName));

    private void AssertWithinTolerance(IReadOnlyDictionary<string, double> alone, IReadOnlyDictionary<string, double> packed)
    {
        Assert.Equal(alone.Keys.Order(), packed.Keys.Order());
        foreach (var (name, value) in alone)
        {
            output.WriteLine($"{name}: alone {value:R}, packed {packed[name]:R}, |Δ| {Math.Abs(value - packed[name]):E2}");
            var tolerance = name.Contains("accuracy", StringComparison.Ordinal) ? AccuracyTolerance : LossTolerance * Math.Max(1, Math.Abs(value));
            Assert.True(Math.Abs(value - packed[name]) <= tolerance, $"{name}: alone {value:R}, packed {packed[name]:R} (tolerance {tolerance})");
        }
    }

    [Fact]
    public void A_pack_of_one_is_the_trial_alone_bit_for_bit()
    {
        var config = FourMembers[2];
        var alone = TrialTrainer.Run(Request("alone", config), null, CancellationToken.None);
        var packed = Pack("one", [config]).Single().Outcome!;

        Assert.Equal(alone.Metrics, packed.Metrics);
        Assert.Equal(Adapter("alone"), Adapter("one-0"));
        Assert.Equal(alone.TrainableParameters, packed.TrainableParameters);
        Assert.Equal(alone.TotalParameters, packed.TotalParameters);
    }

    [Fact]
    public void A_pack_of_4_with_different_ranks_seeds_lrs_and_dropout_gives_each_member_its_alone_metrics_within_tolerance()
    {
        var packed = Pack("four", FourMembers);
        for (var i = 0; i < FourMembers.Length; i++)
        {
            var alone = TrialTrainer.Run(Request($"alone-{i}", FourMembers[i]), null, CancellationToken.None);
            var member = packed[i].Outcome!;
            Assert.Null(packed[i].Error);
            Assert.Equal(alone.Steps, member.Steps);
            Assert.Equal(alone.TrainableParameters, member.TrainableParameters);
            AssertWithinTolerance(alone.Metrics, member.Metrics);
        }
        var result = File.ReadAllText(Path.Combine(_workspace.Sub("four-2"), TrialResult.FileName));
        Assert.Contains("\"pack\"", result);
        Assert.Contains("four-3", result);
    }

    [Fact]
    public void Each_member_keeps_its_own_weight_decay_and_gradient_clipping_in_the_stacked_optimizer()
    {
        // Clipping at 0.05 binds for every member from the first step; weight decays differ by member (0 for one).
        TrainingConfig[] members =
        [
            FourMembers[0] with { WeightDecay = 0.3, GradClip = 0.05 },
            FourMembers[1] with { WeightDecay = 0, GradClip = 0 },
            FourMembers[2] with { WeightDecay = 0.1, GradClip = 0.5 },
        ];
        var packed = Pack("decay", members);
        for (var i = 0; i < members.Length; i++)
        {
            var alone = TrialTrainer.Run(Request($"decay-alone-{i}", members[i]), null, CancellationToken.None);
            AssertWithinTolerance(alone.Metrics, packed[i].Outcome!.Metrics);
        }
    }

    [Fact]
    public void The_same_pack_composition_trains_bit_for_bit_the_same_and_padded_and_grouped_batching_agree_within_tolerance()
    {
        var first = Pack("first", FourMembers);
        var second = Pack("second", FourMembers);
        var grouped = Pack("grouped", FourMembers, batching: LowRankBatching.GroupedByRank);
        for (var i = 0; i < FourMembers.Length; i++)
        {
            Assert.Equal(first[i].Outcome!.Metrics, second[i].Outcome!.Metrics);
            Assert.Equal(Adapter($"first-{i}"), Adapter($"second-{i}"));
            AssertWithinTolerance(first[i].Outcome!.Metrics, grouped[i].Outcome!.Metrics);
        }
    }

    [Fact]
    public void A_member_whose_loss_turns_NaN_fails_alone_while_the_other_three_finish_with_the_metrics_of_a_pack_without_it()
    {
        // lr 1e6 without clipping diverges within a few steps; the observer refuses a non-finite loss, as a silo's does
        // (at the step-10 progress report, before any evaluation of it).
        var members = FourMembers.ToArray();
        members[1] = members[1] with { LearningRate = 1e6, GradClip = 0, EvalEvery = 20 };
        var observers = members.Select(_ => (ITrainingObserver?)new RecordingObserver
        {
            OnEach = p =>
            {
                if (p.Metrics.TryGetValue(MetricNames.TrainLoss, out var loss) && !double.IsFinite(loss))
                    throw new InvalidOperationException($"training loss became {loss} at step {p.Step}");
            },
        }).ToList();
        var packed = Pack("nan", members, observers.Select(o => o).ToList());
        var healthy = Pack("healthy", [members[0], members[2], members[3]]);

        Assert.NotNull(packed[1].Error);
        Assert.Contains("NaN", packed[1].Error!.Message);
        Assert.False(File.Exists(Path.Combine(_workspace.Sub("nan-1"), TrialResult.FileName)));
        foreach (var (i, h) in new[] { (0, 0), (2, 1), (3, 2) })
        {
            Assert.Null(packed[i].Error);
            Assert.Equal(20, packed[i].Outcome!.Steps);
            AssertWithinTolerance(healthy[h].Outcome!.Metrics, packed[i].Outcome!.Metrics);
        }
    }

    [Fact]
    public void Early_stopping_prunes_one_member_mid_pack_and_the_others_train_to_the_end()
    {
        var observers = FourMembers.Select((_, i) => (ITrainingObserver?)new RecordingObserver
        {
            StopWhen = p => i == 2 && p.IsEvaluation && p.Step == 10,
        }).ToList();
        var packed = Pack("pruned", FourMembers, observers);

        var pruned = packed[2].Outcome!;
        Assert.True(pruned.StoppedEarly);
        Assert.Equal(10, pruned.Steps);
        Assert.Equal(CheckpointDirectory.PathOf(_workspace.Sub("pruned-2"), 10), pruned.LastCheckpoint);
        foreach (var i in new[] { 0, 1, 3 })
        {
            Assert.False(packed[i].Outcome!.StoppedEarly);
            Assert.Equal(20, packed[i].Outcome!.Steps);
        }
    }

    [Fact]
    public void A_pack_resumed_from_its_members_checkpoints_ends_bitwise_identical_to_an_uninterrupted_pack()
    {
        var whole = Pack("whole", FourMembers);
        using (var stop = new CancellationTokenSource())
        {
            var observers = FourMembers.Select(_ => (ITrainingObserver?)new RecordingObserver
            {
                OnEach = p => { if (p.IsEvaluation && p.Step == 10) stop.Cancel(); },
            }).ToList();
            var interrupted = PackedTrialTrainer.Run(FourMembers.Select((c, i) => new PackMemberRequest(Request($"cut-{i}", c), observers[i])).ToList(),
                "cut", LowRankBatching.Padded, stop.Token);
            Assert.All(interrupted, o => Assert.Equal(10, o.Outcome!.Steps));
        }

        var resumed = PackedTrialTrainer.Run(FourMembers.Select((c, i) => new PackMemberRequest(
                Request($"cut-{i}", c) with { ResumeFrom = CheckpointDirectory.FindLatestValid(_workspace.Sub($"cut-{i}")) }, null)).ToList(),
            "cut", LowRankBatching.Padded, CancellationToken.None);
        for (var i = 0; i < FourMembers.Length; i++)
        {
            Assert.Equal(20, resumed[i].Outcome!.Steps);
            Assert.Equal(whole[i].Outcome!.Metrics, resumed[i].Outcome!.Metrics);
            Assert.Equal(Adapter($"whole-{i}"), Adapter($"cut-{i}"));
        }
    }

    [Fact]
    public void A_pack_stopped_between_two_members_checks_checkpoints_every_member_at_the_step_it_reached()
    {
        // Member 1's observer cancels the pack at its step-10 progress report (no evaluation, no checkpoint due): members
        // 1..3 see it after their own step, member 0 (checked before) only at the top of the next step, as when a drain
        // lands between members. Every member must still save step 10, so whoever resumes it loses no steps.
        var members = FourMembers.Select(c => c with { EvalEvery = 20 }).ToArray();
        using var stop = new CancellationTokenSource();
        var observers = members.Select((_, i) => (ITrainingObserver?)new RecordingObserver
        {
            OnEach = p => { if (i == 1 && p.Step == 10) stop.Cancel(); },
        }).ToList();
        var stopped = PackedTrialTrainer.Run(members.Select((c, i) => new PackMemberRequest(Request($"drain-{i}", c), observers[i])).ToList(),
            "drain", LowRankBatching.Padded, stop.Token);
        for (var i = 0; i < members.Length; i++)
        {
            var outcome = stopped[i].Outcome!;
            Assert.Equal(10, outcome.Steps);
            Assert.True(outcome.StoppedEarly);
            Assert.Equal(CheckpointDirectory.PathOf(_workspace.Sub($"drain-{i}"), 10), outcome.LastCheckpoint);
        }
    }

    [Fact]
    public void Full_fine_tuning_base_trials_and_trained_biases_never_pack()
    {
        var lora = FourMembers[0];
        Assert.NotNull(PackCompatibility.Key(lora, new BaseModelSpec()));
        Assert.Null(PackCompatibility.Key(lora with { Adapter = AdapterKind.Full }, new BaseModelSpec()));
        Assert.Null(PackCompatibility.Key(lora with { Adapter = AdapterKind.Base }, new BaseModelSpec()));
        Assert.Null(PackCompatibility.Key(lora with { Bias = BiasMode.All }, new BaseModelSpec()));
        // A pretrained encoder's classifier head trains per trial (modules_to_save): it never packs.
        Assert.Null(PackCompatibility.Key(lora with { Model = "minilm-l6", Dataset = "imdb", TargetModules = ["query", "value"] }, new BaseModelSpec()));
        Assert.Contains("not built in", PackCompatibility.WhyNotPackable(lora with { Model = "minilm-l6" }));
        // Rank, lr, dropout and seed do not split a pack over a saved base; the batch size does; the seed does over a seeded init.
        var saved = new BaseModelSpec { Checkpoint = "base.safetensors" };
        Assert.Equal(PackCompatibility.Key(lora, saved), PackCompatibility.Key(FourMembers[2], saved));
        Assert.NotEqual(PackCompatibility.Key(lora, saved), PackCompatibility.Key(lora with { BatchSize = 32 }, saved));
        Assert.NotEqual(PackCompatibility.Key(lora, new BaseModelSpec()), PackCompatibility.Key(lora with { Seed = 9 }, new BaseModelSpec()));
    }
}
