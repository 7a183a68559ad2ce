using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

public sealed class ConcurrentTrialsTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    // The mlp's dropout 0.5 plus LoRA dropout: every step draws masks, so a shared generator would show at once.
    private static TrainingConfig Mlp(long seed) => new()
    {
        Model = "mlp", Dataset = "mnist", Rank = 4, Alpha = 4, TargetModules = ["l1", "l2", "l3"], Dropout = 0.1,
        BatchSize = 128, MaxSteps = 12, EvalEvery = 6, Seed = seed,
    };

    private TrainingOutcome Train(string name, TrainingConfig config) =>
        TrialTrainer.Run(new TrainingRequest(config, new BaseModelSpec(), _workspace.Sub(name), _workspace.Sub("bases")), null, CancellationToken.None);

    private byte[] Adapter(string name) =>
        File.ReadAllBytes(Path.Combine(_workspace.Sub(name), TrialTrainer.AdapterFolder, PeftAdapter.WeightsFileName));

    [Fact]
    public void Two_trials_training_at_once_on_two_threads_match_each_run_alone_bit_for_bit()
    {
        var aloneA = Train("alone-a", Mlp(11));
        var aloneB = Train("alone-b", Mlp(12));

        TrainingOutcome? togetherA = null, togetherB = null;
        using var start = new Barrier(2);
        var threadA = new Thread(() => { start.SignalAndWait(); togetherA = Train("together-a", Mlp(11)); });
        var threadB = new Thread(() => { start.SignalAndWait(); togetherB = Train("together-b", Mlp(12)); });
        threadA.Start();
        threadB.Start();
        threadA.Join();
        threadB.Join();

        Assert.Equal(aloneA.Metrics, togetherA!.Metrics);
        Assert.Equal(aloneB.Metrics, togetherB!.Metrics);
        Assert.Equal(Adapter("alone-a"), Adapter("together-a"));
        Assert.Equal(Adapter("alone-b"), Adapter("together-b"));
        Assert.NotEqual(Adapter("alone-a"), Adapter("alone-b"));
    }

    [Theory]
    [InlineData(null, null, null, 16, 16)]
    [InlineData(null, null, "2", 16, 8)]
    [InlineData(null, null, "3", 16, 5)]
    [InlineData(null, null, "4", 2, 1)]
    [InlineData("6", null, "2", 16, 6)]
    [InlineData(null, null, "0", 16, 16)]
    [InlineData(null, "1", "1", 2, 1)] // OMP_NUM_THREADS, as PyTorch reads it, over the slots' share
    [InlineData("2", "1", "1", 2, 2)] // ORCHESTRATOR_TORCH_THREADS (what `reproduce` sets) over both
    [InlineData(null, "2,1", "2", 16, 8)] // a nested OpenMP list is not a count: ignored
    [InlineData(null, "0", null, 4, 4)]
    public void Torch_threads_default_to_an_equal_share_of_the_cores_per_slot(string? threads, string? openMp, string? slots, int cores, int expected) =>
        Assert.Equal(expected, TorchThreads.Resolve(threads, openMp, slots, cores));
}
