using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Training;

public sealed class TorchThreadsTests
{
    [Fact]
    public void A_lease_for_another_thread_count_waits_until_the_lease_computing_now_is_released_and_then_sets_its_count()
    {
        var current = TorchThreads.Configured;
        var other = current == 1 ? 2 : 1;
        var holding = TorchThreads.Use();
        int threads = 0, set = 0;
        var changing = new Thread(() =>
        {
            using var lease = TorchThreads.Use(other);
            (threads, set) = (lease.Threads, TorchSharp.torch.get_num_threads());
        });
        changing.Start();
        // It registers as waiting to change the count, and cannot finish while the first lease is held.
        // Synchronous waits: a lease is released on the thread that took it.
        Assert.True(SpinWait.SpinUntil(() => TorchThreads.WaitingToChange == 1, TimeSpan.FromSeconds(30)), "the other count never waited");
        Assert.True(changing.IsAlive);

        holding.Dispose();
        Assert.True(changing.Join(TimeSpan.FromSeconds(30)), "the other count never got its lease");

        Assert.Equal(other, threads);
        Assert.Equal(other, set);
        Assert.Equal(0, TorchThreads.WaitingToChange);
        using var back = TorchThreads.Use(); // the configured count again, nothing holding the other one
        Assert.Equal(current, TorchSharp.torch.get_num_threads());
    }

    [Fact]
    public void A_thread_holding_a_lease_takes_another_of_the_same_count_but_is_refused_a_different_one()
    {
        using var outer = TorchThreads.Use();
        using (var inner = TorchThreads.Use(outer.Threads)) Assert.Equal(outer.Threads, inner.Threads);
        var refused = Assert.Throws<InvalidOperationException>(() => TorchThreads.Use(outer.Threads + 1));
        Assert.Contains($"cannot switch to {outer.Threads + 1}", refused.Message);
    }
}
