using System.Globalization;
using System.Runtime.InteropServices;

namespace Orchestrator.Trainer.Memory;

/// <summary>
/// The peak resident memory of this process over one trial, as a delta over a baseline taken before the trial loads
/// anything. Linux only: the kernel's high-water mark (VmHWM of /proc/self/status) is the peak, and writing 5 to
/// /proc/self/clear_refs resets it to the current resident size, so each trial measures its own peak in a long-lived
/// process. Before the baseline, glibc is asked to give freed heap pages back (malloc_trim), because
/// <see cref="Training.NativeHeap"/> keeps freed tensor memory in the heap: without the trim a second trial would reuse
/// the first one's pages and its peak would read low. What it cannot separate: trials training at the same time in one
/// process (several slots) share one high-water mark, so each then records the process's peak over its own run.
/// On a GPU this is the host's memory; TorchSharp 0.107 exposes no CUDA allocator statistics.
/// </summary>
public sealed partial class PeakMemory
{
    private const string StatusFile = "/proc/self/status";
    private const string ClearRefsFile = "/proc/self/clear_refs";

    private readonly long? _baseline;

    private PeakMemory(long? baseline) => _baseline = baseline;

    /// <summary>Trims the heap, resets the high-water mark and reads the baseline; measures nothing where /proc is missing.</summary>
    public static PeakMemory Start()
    {
        if (!OperatingSystem.IsLinux()) return new PeakMemory(null);
        TrimHeap();
        if (!ResetHighWaterMark()) return new PeakMemory(null);
        return new PeakMemory(Read("VmRSS"));
    }

    private long? _loadingPeak;

    /// <summary>Peak resident bytes since <see cref="Start"/> above its baseline; null where it cannot be measured.</summary>
    public long? PeakBytes() => Reading().Peak;

    /// <summary>
    /// <see cref="PeakBytes"/> and the training part from one read of the high-water mark, so the training part never
    /// exceeds the whole (two reads apart would let the mark rise in between, another thread allocating). The training
    /// part is the peak since <see cref="EndLoading"/> above the same baseline: what training and evaluation needed once
    /// the base was in its final form (half precision, quantised), without the transient of loading it; null before.
    /// </summary>
    public (long? Peak, long? Training) Reading()
    {
        if (_baseline is not { } baseline || Read("VmHWM") is not { } mark) return (null, null);
        var sinceMark = Math.Max(0, mark - baseline);
        return (Math.Max(_loadingPeak ?? 0, sinceMark), _loadingPeak is null ? null : sinceMark);
    }

    /// <summary>The peak while the base was loaded and prepared (<see cref="EndLoading"/>); null before it or where not measured.</summary>
    public long? LoadingPeakBytes => _loadingPeak;

    /// <summary>Keeps the peak so far as the loading peak and resets the high-water mark for the training phase.</summary>
    public void EndLoading()
    {
        if (PeakBytes() is not { } loading) return;
        _loadingPeak = loading;
        TrimHeap(); // loading's freed buffers (the file's tensors, fp32 weights converted away) leave the resident set
        ResetHighWaterMark();
    }

    /// <summary>Resident bytes now (VmRSS), or null off Linux.</summary>
    public static long? ResidentBytes() => OperatingSystem.IsLinux() ? Read("VmRSS") : null;

    /// <summary>Resets VmHWM to the current resident size; false where the kernel refuses (older than 4.0, or a sandbox).</summary>
    public static bool ResetHighWaterMark()
    {
        try
        {
            File.WriteAllText(ClearRefsFile, "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void TrimHeap()
    {
        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc: nothing to give back by hand.
        }
    }

    /// <summary>A `Vm…: N kB` line of /proc/self/status, in bytes.</summary>
    private static long? Read(string field)
    {
        try
        {
            foreach (var line in File.ReadLines(StatusFile))
            {
                if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
                var parts = line[(field.Length + 1)..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return null;
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
