using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

public sealed class NativeHeapTests
{
    [Fact]
    public void On_linux_glibc_freed_tensor_memory_is_kept_for_reuse_and_asking_again_changes_nothing()
    {
        Assert.Equal(OperatingSystem.IsLinux(), NativeHeap.Configure());
        Assert.Equal(OperatingSystem.IsLinux(), NativeHeap.Configure());
    }
}
