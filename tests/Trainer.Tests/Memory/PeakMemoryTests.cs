using System.Text.Json;
using Orchestrator.Trainer.Memory;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trainer.Training;
using Orchestrator.Trials.Configuration;
using TorchSharp;

namespace Orchestrator.Trainer.Tests.Memory;

[Collection(AloneInProcess.Name)] // reads the process's resident memory (Linux, as the test machines and the images)
public sealed class PeakMemoryTests : IDisposable
{
    private const long MiB = 1024 * 1024;
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public void A_96_MiB_tensor_touched_after_the_baseline_is_in_the_peak_and_a_new_start_forgets_it()
    {
        // Tensors earlier tests left to the finalizer free their native memory whenever it runs: one freed between the
        // baseline and the peak hides as much of the tensor (seen once in a suite: 76 of 96 MiB). Run them first.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        var first = PeakMemory.Start();
        using (var big = torch.ones(24 * MiB)) // 96 MiB of float32, every page written
            Assert.Equal(24 * MiB, big.sum().item<float>());
        var peak = first.PeakBytes();

        var second = PeakMemory.Start(); // the tensor is freed: a fresh baseline and high-water mark
        var after = second.PeakBytes();

        Assert.NotNull(peak);
        Assert.InRange(peak.Value, 90 * MiB, 400 * MiB);
        Assert.NotNull(after);
        Assert.True(after.Value < 32 * MiB, $"a reset high-water mark still read {after.Value / MiB} MiB");
    }

    [Fact]
    public void Every_trial_records_its_peak_memory_and_the_part_after_loading_in_result_json_and_its_outcome()
    {
        var config = new TrainingConfig
        {
            Model = "mlp", Dataset = "mnist", Rank = 4, Alpha = 4, TargetModules = ["l1", "l2", "l3"], BatchSize = 64, MaxSteps = 3, Seed = 1,
        };

        var outcome = TrialTrainer.Run(new TrainingRequest(config, new BaseModelSpec(), _workspace.Sub("trial"), _workspace.Sub("bases")), null, CancellationToken.None);

        using var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(_workspace.Sub("trial"), TrialResult.FileName)));
        var recorded = result.RootElement.GetProperty("peak_memory_bytes").GetInt64();
        Assert.True(recorded > 0, $"peak_memory_bytes {recorded}");
        var training = result.RootElement.GetProperty("peak_memory_training_bytes").GetInt64();
        Assert.InRange(training, 0, recorded); // the part after loading, over the same baseline (other tests may have freed memory meanwhile)
        Assert.Equal(recorded, outcome.PeakMemoryBytes);
    }
}
