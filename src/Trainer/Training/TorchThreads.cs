using TorchSharp;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// The intra-op thread count, fixed per process: CPU kernels split reductions by thread, so the same run on a
/// different thread count can differ in the last bits (result.json records the count; `reproduce` sets it back).
/// `ORCHESTRATOR_TORCH_THREADS` sets it; otherwise, when `ORCHESTRATOR_SLOTS` says how many trials a silo trains at
/// once, each gets an equal share of the cores (max(1, cores / slots)) instead of every slot oversubscribing all of
/// them; otherwise every core. The count is process-wide (torch.set_num_threads), so concurrent trials share it.
/// </summary>
public static class TorchThreads
{
    public const string Variable = "ORCHESTRATOR_TORCH_THREADS";
    /// <summary>The silo's concurrent trial count (Contracts' EnvironmentVariables.Slots; the trainer does not reference Contracts).</summary>
    public const string SlotsVariable = "ORCHESTRATOR_SLOTS";
    private static readonly Lock Gate = new();
    private static int _applied;

    public static int Configured => Resolve(Environment.GetEnvironmentVariable(Variable), Environment.GetEnvironmentVariable(SlotsVariable), Environment.ProcessorCount);

    /// <summary>The thread count for these variable values on <paramref name="cores"/> cores (see the class summary).</summary>
    public static int Resolve(string? threads, string? slots, int cores)
    {
        if (int.TryParse(threads, out var n) && n > 0) return n;
        if (int.TryParse(slots, out var s) && s > 0) return Math.Max(1, cores / s);
        return cores;
    }

    /// <summary>Sets torch's thread count to <see cref="Configured"/> (once per process, unless it changes) and returns it.</summary>
    public static int Apply()
    {
        var threads = Configured;
        NativeHeap.Configure();
        lock (Gate)
        {
            if (_applied != threads)
            {
                torch.set_num_threads(threads);
                _applied = threads;
            }
        }
        return threads;
    }

    /// <summary>Sets an explicit count (benchmarks); later <see cref="Apply"/> calls restore the configured one.</summary>
    public static void Set(int threads)
    {
        NativeHeap.Configure();
        lock (Gate)
        {
            torch.set_num_threads(threads);
            _applied = threads;
        }
    }
}
