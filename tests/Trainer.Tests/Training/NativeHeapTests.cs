using System.Runtime.InteropServices;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

// Alone: a trial running beside it (PeakMemory.Start calls malloc_trim) may give the freed block back to the kernel
// between the two allocations, which is what failed it once in CI (every page faulted again).
[Collection(AloneInProcess.Name)]
public sealed class NativeHeapTests
{
    private const int PageSize = 4096;

    [Fact]
    public void On_linux_glibc_a_freed_block_below_the_mmap_threshold_is_reused_without_page_faulting_again()
    {
        Assert.Equal(OperatingSystem.IsLinux(), NativeHeap.Configure());
        if (!OperatingSystem.IsLinux()) return;
        var settings = NativeHeap.Settings;
        Assert.InRange(settings.MmapThreshold!.Value, NativeHeap.MaxMmapThreshold, int.MaxValue);
        Assert.NotNull(settings.TrimThreshold);

        // A block glibc would otherwise mmap (over its 128 KiB default) and munmap on free, then fault in afresh: a
        // kept block is the same pages, already mapped. Faults are counted for this thread only (RUSAGE_THREAD), so
        // the runtime's other threads do not add to them.
        var bytes = Math.Min(settings.MmapThreshold.Value, NativeHeap.MaxMmapThreshold) * 3 / 4;
        var pages = bytes / PageSize;
        // The heap grows to hold the block (these faults are expected). A small block allocated after it stays until the
        // end: without it the freed block is the heap's whole top, and a thread's own arena (not the main one) deletes a
        // sub-heap that became entirely free whatever the thresholds say (seen once: 6,148 faults, run alone).
        var block = Marshal.AllocHGlobal(bytes);
        Touch(block, bytes);
        var pin = Marshal.AllocHGlobal(64);
        Marshal.FreeHGlobal(block);
        var before = MinorFaultsOfThisThread();
        TouchAndFree(bytes);
        var again = MinorFaultsOfThisThread() - before;
        Marshal.FreeHGlobal(pin);

        Assert.True(again < pages / 10, $"re-allocating a freed {bytes >> 20} MiB block page-faulted {again} times ({pages} pages): it went back to the kernel");
    }

    private static void TouchAndFree(int bytes)
    {
        var block = Marshal.AllocHGlobal(bytes); // malloc on Unix
        Touch(block, bytes);
        Marshal.FreeHGlobal(block);
    }

    private static void Touch(IntPtr block, int bytes)
    {
        for (var offset = 0; offset < bytes; offset += PageSize) Marshal.WriteByte(block, offset, 1);
    }

    private static long MinorFaultsOfThisThread()
    {
        // struct rusage: two timevals (4 longs), then ru_maxrss, ru_ixrss, ru_idrss, ru_isrss, ru_minflt, ... (14 longs).
        var usage = new long[18];
        Assert.Equal(0, getrusage(RusageThread, usage));
        return usage[8];
    }

    private const int RusageThread = 1;

    [DllImport("libc", EntryPoint = "getrusage")]
    private static extern int getrusage(int who, [Out] long[] usage);
}
