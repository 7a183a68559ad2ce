using System.Runtime.InteropServices;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// libtorch's CPU tensors come from the C heap. glibc serves every block over its mmap threshold (128 KiB to 32 MiB,
/// adapting) with a fresh mmap and returns it with munmap on free, so each step's large temporaries (a batch of MNIST
/// rows is 400 KB, a pack's 3 MB) are page-faulted in again, zeroed by the kernel, every step: measured here, a cat
/// and a multiply over a [1024, 784] batch took 5.0 ms that way and 0.28 ms with freed blocks kept for reuse. This
/// raises the mmap and trim thresholds once per process so freed tensor memory stays in the heap (the process keeps
/// its peak, as PyTorch's own caching allocators do on GPUs). glibc on Linux only; elsewhere it does nothing.
/// </summary>
public static partial class NativeHeap
{
    private const int MmapThresholdParameter = -3, TrimThresholdParameter = -1; // glibc's M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
    private const int KeepBytes = 1 << 30;

    /// <summary>
    /// The largest mmap threshold glibc accepts: DEFAULT_MMAP_THRESHOLD_MAX, 4 MiB times sizeof(long) (32 MiB on
    /// 64-bit). mallopt refuses anything above half its per-thread heap size, so the 1 GiB first asked for fails on
    /// a stock glibc; blocks larger than this are mmapped whatever we ask.
    /// </summary>
    public static int MaxMmapThreshold { get; } = 4 * 1024 * 1024 * IntPtr.Size;

    private static readonly Lazy<NativeHeapSettings> Applied = new(Apply, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>True when both thresholds are raised (now or earlier in this process): freed blocks are then kept.</summary>
    public static bool Configure() => Applied.Value.KeepsFreedMemory;

    /// <summary>What <see cref="Configure"/> set: each threshold the running glibc accepted, or null.</summary>
    public static NativeHeapSettings Settings => Applied.Value;

    private static NativeHeapSettings Apply()
    {
        if (!OperatingSystem.IsLinux()) return NativeHeapSettings.None;
        try
        {
            // Each setting on its own: a refused mmap threshold must not leave the trim threshold at its default,
            // and the largest threshold this glibc takes is better than none.
            int? mmap = TrySet(MmapThresholdParameter, KeepBytes) ? KeepBytes
                : TrySet(MmapThresholdParameter, MaxMmapThreshold) ? MaxMmapThreshold
                : null;
            int? trim = TrySet(TrimThresholdParameter, KeepBytes) ? KeepBytes : null;
            return new NativeHeapSettings(mmap, trim);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return NativeHeapSettings.None; // not glibc (musl has no mallopt): the default allocator behaviour stays
        }
    }

    private static bool TrySet(int parameter, int value) => mallopt(parameter, value) == 1;

    /// <summary>
    /// The mmap threshold while a memory-bound trial runs (<see cref="LowPeak"/>): blocks of 1 MiB and up (a decoder's
    /// weights as loaded, its de-quantised weights, the activations of long batches) are mapped for themselves and
    /// unmapped when freed, instead of staying in the heap as fragments no later block fits; smaller ones are reused from
    /// the heap. Measured on the 168M llama, LoRA r=16 all-linear, 1 × 64 tokens (20-step `train` runs and `bench
    /// memory`): at 64 KiB the peaks were lowest (bf16 483 MiB, bf16 + NF4 284 MiB) but every activation was page-faulted
    /// in again each step and training ran 2.5 times slower (bf16: 1.13 against 3.16 steps/s); at 1 MiB bf16 trains at
    /// full speed (3.16 steps/s) with peaks of 506 and 307 MiB; with everything kept (32 MiB) the bf16 peak was 531 MiB.
    /// NF4 paid for its de-quantised weights (0.87 steps/s against 1.05 for the build that kept the heap) until it
    /// de-quantised in 256 Ki-value chunks (DecoderPeakMemory.DequantizeChunkValues: 1.05–1.11 steps/s).
    /// </summary>
    public const int LowPeakMmapThreshold = 1024 * 1024;

    /// <summary>
    /// The mmap threshold while a memory-bound trial loads its base (until <see cref="LowPeakScope.EndLoading"/>): quantising
    /// or converting tensor by tensor frees temporaries of every size between the tensors it keeps, and each step of
    /// loading runs once, so no page fault is worth a fragment. Measured on the 168M llama, bf16 + NF4: the heap held
    /// 26 MiB more after loading than the loaded model at 1 MiB.
    /// </summary>
    public const int LoadingMmapThreshold = 64 * 1024;

    private static readonly Lock LowPeakGate = new();
    private static int _lowPeakScopes, _loadingScopes;

    /// <summary>
    /// Until the returned scope is disposed (all of them, when trials overlap), large blocks go back to the kernel when
    /// freed: a trial's peak resident memory is then what it holds, not what it once held (see
    /// <see cref="LowPeakMmapThreshold"/> for what it saves and costs, and README, `bench memory`); while it loads, blocks
    /// of <see cref="LoadingMmapThreshold"/> and up. Small
    /// models (MNIST's MLP, where a step is a millisecond) keep the kept-heap setting. Nothing where
    /// <see cref="Configure"/> set nothing. What it cannot change: a request that fits a free chunk already in the heap
    /// (left by earlier work in a long-lived process) is served from it whatever the threshold, so its effect is whole in
    /// a fresh process (`train`, `bench memory`) and partial in a silo; for that reason no unit test asserts it in the
    /// shared test process (it passed alone and read 0 faults among the other tests), and `bench memory` shows it.
    /// </summary>
    public static LowPeakScope LowPeak()
    {
        if (Settings.MmapThreshold is not { } kept) return new LowPeakScope(null);
        lock (LowPeakGate)
        {
            _lowPeakScopes++;
            _loadingScopes++;
            ApplyThreshold(kept);
        }
        return new LowPeakScope(kept);
    }

    // The lowest threshold any open scope asks for; the kept one when none is open. Called under LowPeakGate.
    private static void ApplyThreshold(int kept) =>
        TrySet(MmapThresholdParameter, _loadingScopes > 0 ? LoadingMmapThreshold : _lowPeakScopes > 0 ? LowPeakMmapThreshold : kept);

    /// <summary>A trial's low-peak heap setting (<see cref="LowPeak"/>): loading until <see cref="EndLoading"/>, then training.</summary>
    public sealed class LowPeakScope : IDisposable
    {
        private readonly int? _kept;
        private int _loaded, _disposed;

        internal LowPeakScope(int? kept) => _kept = kept;

        /// <summary>The base is loaded and prepared: training's threshold from now on (unless another trial still loads).</summary>
        public void EndLoading()
        {
            if (_kept is not { } kept || Interlocked.Exchange(ref _loaded, 1) == 1) return;
            lock (LowPeakGate)
            {
                _loadingScopes--;
                ApplyThreshold(kept);
            }
        }

        public void Dispose()
        {
            if (_kept is not { } kept || Interlocked.Exchange(ref _disposed, 1) == 1) return;
            EndLoading();
            lock (LowPeakGate)
            {
                _lowPeakScopes--;
                ApplyThreshold(kept);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int parameter, int value);
}
