using Orchestrator.Trainer.Memory;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Trainer.Tests.Memory;

// Alone: the bound counts the whole process's allocations, and a test training beside it would allocate its bound.
[Collection(AloneInProcess.Name)]
public sealed class ManagedGarbageBoundTests
{
    private static readonly TrainingConfig Mnist = new()
    {
        Model = "mlp", Dataset = "mnist", Rank = 4, Alpha = 4, TargetModules = ["l1", "l2", "l3"], BatchSize = 64, MaxSteps = 3,
    };

    [Fact]
    public void Only_a_memory_bound_trial_bounds_its_managed_garbage()
    {
        Assert.Null(ManagedGarbageBound.For(Mnist));
        Assert.NotNull(ManagedGarbageBound.For(Mnist with { BaseDtype = BaseDtype.Bf16 }));
        Assert.NotNull(ManagedGarbageBound.For(Mnist with { GradientCheckpointing = true }));
    }

    [Fact]
    public void Generation_0_is_collected_once_the_bound_was_allocated_since_the_last_collection_and_not_before()
    {
        var bound = ManagedGarbageBound.For(Mnist with { BaseDtype = BaseDtype.Bf16 })!;
        var collectionsBefore = GC.CollectionCount(0);

        bound.Check(); // nothing allocated since it was made
        Assert.Equal(0, bound.Collections);

        Garbage(ManagedGarbageBound.AllocationBytes + 1024 * 1024);
        bound.Check();
        Assert.Equal(1, bound.Collections);
        Assert.True(GC.CollectionCount(0) > collectionsBefore, "no generation-0 collection ran");

        Garbage(ManagedGarbageBound.AllocationBytes / 4);
        bound.Check(); // a quarter of the bound since that collection
        Assert.Equal(1, bound.Collections);
    }

    private static void Garbage(long bytes)
    {
        for (long made = 0; made < bytes; made += 16 * 1024) GC.KeepAlive(new byte[16 * 1024]);
    }
}
