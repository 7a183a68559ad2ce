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
    private static readonly object Gate = new(); // a monitor: Use waits on it
    private static int _applied;
    private static int _holders;
    private static int _waitingToChange;
    [ThreadStatic] private static int _heldByThisThread;

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

    /// <summary>
    /// Sets torch's thread count to <paramref name="threads"/> (default <see cref="Configured"/>) and holds it until the
    /// returned lease is disposed: a trial or benchmark computes inside one. libtorch's count is process-wide, and changing
    /// it while another thread computes is not safe (at::set_num_threads resizes the pools those kernels run on), so a
    /// lease for a different count waits until no lease is held, and while it waits no new lease of the current count
    /// starts. Leases of the same count never wait (a silo's trials all share one). A thread that holds a lease may take
    /// another of the same count; one of a different count would wait for itself, so it is refused.
    /// </summary>
    public static TorchThreadLease Use(int? threads = null)
    {
        var wanted = threads ?? Configured;
        if (wanted <= 0) throw new ArgumentOutOfRangeException(nameof(threads), threads, "a thread count is 1 or more");
        NativeHeap.Configure();
        lock (Gate)
        {
            if (_heldByThisThread > 0)
            {
                if (wanted != _applied)
                    throw new InvalidOperationException($"this thread computes at {_applied} torch threads; it cannot switch to {wanted} inside that");
            }
            else
            {
                while (!(wanted == _applied && _waitingToChange == 0))
                {
                    if (_holders == 0)
                    {
                        if (wanted != _applied)
                        {
                            torch.set_num_threads(wanted);
                            _applied = wanted;
                        }
                        break;
                    }
                    var changing = wanted != _applied; // counted while it waits, so leases of the current count let it in
                    if (changing) _waitingToChange++;
                    try
                    {
                        Monitor.Wait(Gate);
                    }
                    finally
                    {
                        if (changing) _waitingToChange--;
                    }
                }
            }
            _holders++;
            _heldByThisThread++;
        }
        return new TorchThreadLease(wanted);
    }

    /// <summary>Leases waiting to set a different count (tests and diagnostics).</summary>
    public static int WaitingToChange
    {
        get
        {
            lock (Gate) return _waitingToChange;
        }
    }

    internal static void Release()
    {
        lock (Gate)
        {
            _holders--;
            _heldByThisThread--;
            if (_holders == 0) Monitor.PulseAll(Gate);
        }
    }
}

/// <summary>torch's thread count held for a computation (<see cref="TorchThreads.Use"/>); disposing it lets a different count be set.</summary>
public sealed class TorchThreadLease : IDisposable
{
    private int _disposed;

    internal TorchThreadLease(int threads) => Threads = threads;

    /// <summary>The count torch computes with while this lease is held.</summary>
    public int Threads { get; }

    /// <summary>Releases the lease (on the thread that took it).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) TorchThreads.Release();
    }
}
