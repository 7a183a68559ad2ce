using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

public sealed class CheckpointTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private TrainingRequest Request(string name, int maxSteps = 15, int checkpointEvery = 5) => new(
        new TrainingConfig
        {
            Model = "mlp", Dataset = "mnist", Rank = 4, Alpha = 4, TargetModules = ["l1", "l2", "l3"],
            BatchSize = 64, MaxSteps = maxSteps, EvalEvery = 5, CheckpointEvery = checkpointEvery, Seed = 3,
        },
        new BaseModelSpec(), _workspace.Sub(name), _workspace.Sub("bases"));

    [Fact]
    public void Only_the_two_newest_checkpoints_are_kept_and_each_lists_the_sha256_of_its_files()
    {
        var observer = new RecordingObserver();
        var outcome = TrialTrainer.Run(Request("run"), observer, CancellationToken.None);

        Assert.Equal([5L, 10L, 15L], observer.Checkpoints.Select(c => c.Step));
        var kept = CheckpointDirectory.List(_workspace.Sub("run"));
        Assert.Equal([15L, 10L], kept.Select(k => k.Step));
        Assert.Equal(kept[0].Directory, outcome.LastCheckpoint);
        var manifest = CheckpointDirectory.Verify(kept[0].Directory);
        Assert.Equal(15, manifest.Step);
        Assert.Equal(3, manifest.Files.Count);
    }

    [Fact]
    public void A_corrupted_newest_checkpoint_is_skipped_in_favour_of_the_previous_valid_one()
    {
        TrialTrainer.Run(Request("run"), null, CancellationToken.None);
        var newest = CheckpointDirectory.PathOf(_workspace.Sub("run"), 15);
        var weights = Path.Combine(newest, CheckpointDirectory.WeightsFile);
        var bytes = File.ReadAllBytes(weights);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(weights, bytes);

        var error = Assert.Throws<CheckpointCorruptException>(() => CheckpointDirectory.Load(newest));
        Assert.Contains(CheckpointDirectory.WeightsFile, error.Message);
        Assert.Equal(CheckpointDirectory.PathOf(_workspace.Sub("run"), 10), CheckpointDirectory.FindLatestValid(_workspace.Sub("run")));
    }

    [Fact]
    public void Resuming_from_a_corrupt_checkpoint_throws_before_training()
    {
        TrialTrainer.Run(Request("run"), null, CancellationToken.None);
        var newest = CheckpointDirectory.PathOf(_workspace.Sub("run"), 15);
        File.Delete(Path.Combine(newest, CheckpointDirectory.OptimizerFile));

        Assert.Throws<CheckpointCorruptException>(() =>
            TrialTrainer.Run(Request("again") with { ResumeFrom = newest }, null, CancellationToken.None));
    }

    [Fact]
    public void A_checkpoint_does_not_resume_a_run_with_a_different_config()
    {
        TrialTrainer.Run(Request("run"), null, CancellationToken.None);
        var request = Request("other") with { ResumeFrom = CheckpointDirectory.FindLatestValid(_workspace.Sub("run")) };

        var error = Assert.Throws<InvalidOperationException>(() =>
            TrialTrainer.Run(request with { Config = request.Config with { LearningRate = 0.5 } }, null, CancellationToken.None));
        Assert.Contains("different training config", error.Message);
    }

    [Fact]
    public void No_checkpoint_at_all_means_no_valid_one() =>
        Assert.Null(CheckpointDirectory.FindLatestValid(_workspace.Sub("nothing")));
}
