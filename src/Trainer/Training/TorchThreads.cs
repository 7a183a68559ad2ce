using TorchSharp;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// The intra-op thread count, fixed per process: CPU kernels split reductions by thread, so the same run on a
/// different thread count can differ in the last bits (result.json records the count; `reproduce` sets it back).
/// `ORCHESTRATOR_TORCH_THREADS` sets it; otherwise `OMP_NUM_THREADS`, as PyTorch reads it (a count set for the
/// machine: several silos sharing its cores); otherwise, when `ORCHESTRATOR_SLOTS` says how many trials a silo trains
/// at once, each gets an equal share of the cores (max(1, cores / slots)) instead of every slot oversubscribing all of
/// them; otherwise every core. The count is process-wide (torch.set_num_threads), so concurrent trials share it.
/// Oversubscription is costly beyond the share itself: libgomp's idle threads spin before they sleep, so three silos of
/// two threads each on two cores trained a 4-trial MNIST sweep in 23 s and 40 CPU-s, and with one thread each in 8 s
/// and 11 CPU-s.
/// </summary>
public static class TorchThreads
{
    public const string Variable = "ORCHESTRATOR_TORCH_THREADS";
    /// <summary>OpenMP's own thread count variable, honoured as PyTorch honours it.</summary>
    public const string OpenMpVariable = "OMP_NUM_THREADS";
    /// <summary>The silo's concurrent trial count (Contracts' EnvironmentVariables.Slots; the trainer does not reference Contracts).</summary>
    public const string SlotsVariable = "ORCHESTRATOR_SLOTS";
    private static readonly Lock Gate = new();
    private static int _applied;

    public static int Configured => Resolve(Environment.GetEnvironmentVariable(Variable), Environment.GetEnvironmentVariable(OpenMpVariable),
        Environment.GetEnvironmentVariable(SlotsVariable), Environment.ProcessorCount);

    /// <summary>The thread count for these variable values on <paramref name="cores"/> cores (see the class summary).</summary>
    public static int Resolve(string? threads, string? openMpThreads, string? slots, int cores)
    {
        if (int.TryParse(threads, out var n) && n > 0) return n;
        if (int.TryParse(openMpThreads, out var omp) && omp > 0) return omp;
        if (int.TryParse(slots, out var s) && s > 0) return Math.Max(1, cores / s);
        return cores;
    }

    /// <summary>
    /// A silo of <paramref name="slots"/> trial slots fixes this process's count once, as the class summary says, unless
    /// one is already set (so it is recorded in each result.json and `reproduce` uses the same).
    /// </summary>
    public static void ShareCoresBetween(int slots)
    {
        if (slots <= 0 || Environment.GetEnvironmentVariable(Variable) is not null) return;
        var threads = Resolve(null, Environment.GetEnvironmentVariable(OpenMpVariable), slots.ToString(System.Globalization.CultureInfo.InvariantCulture), Environment.ProcessorCount);
        Environment.SetEnvironmentVariable(Variable, threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
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
