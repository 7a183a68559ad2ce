using Orchestrator.Contracts.Sweeps;

namespace Orchestrator.Orchestration.Tests;

/// <summary>The scheduler's list of sweeps, under the interleaved calls that sweeps make to it.</summary>
public sealed class SchedulerGrainTests : HandDrivenCluster
{
    [Fact]
    public async Task Sweeps_that_activate_and_finish_at_the_same_time_are_all_recorded_and_survive_a_reactivation()
    {
        var scheduler = Cluster.Client.GetGrain<ISchedulerGrain>(0);
        var names = Enumerable.Range(0, 20).Select(i => $"sweep-{i}").ToList();

        await Task.WhenAll(names.Select(n => scheduler.SweepActiveAsync(n)));
        await Task.WhenAll(names.Take(10).Select(n => scheduler.SweepInactiveAsync(n)));

        Assert.Equal(names.Skip(10).Order(), (await scheduler.GetSweepsAsync(includeFinished: false)).Order());
        Assert.Equal(names.Order(), (await scheduler.GetSweepsAsync(includeFinished: true)).Order());

        // What was written is what a new activation reads.
        await Cluster.Cluster.DeactivateAsync(scheduler);
        Assert.Equal(names.Skip(10).Order(), (await scheduler.GetSweepsAsync(includeFinished: false)).Order());
        Assert.Equal(names.Order(), (await scheduler.GetSweepsAsync(includeFinished: true)).Order());
    }
}
