using Orchestrator.Contracts.Sweeps;
using Orchestrator.Contracts.Trials;

namespace Orchestrator.Orchestration.Tests;

/// <summary>
/// The sweep grain's packs, driven by hand (the silo has no training slots): which queued trials one slot gets,
/// how `parallel` counts a pack, and that a lost reply hands the same pack back.
/// </summary>
public sealed class PackLeaseTests : HandDrivenCluster
{
    private static string Spec(string name, string pack, int parallel = 2, string baselines = "") => $$"""
        name: {{name}}
        seed: 1
        task: { model: mlp, dataset: mnist, base: { pretrain: { epochs: 1 } } }
        metric: { name: test_accuracy, goal: maximize }
        method: grid
        parallel: {{parallel}}
        pack: {{pack}}
        {{(baselines == "" ? "" : "baselines: " + baselines)}}
        parameters:
          rank: { values: [1, 2, 4, 8, 16] }
          seed: { values: [0, 1] }
          max_steps: { value: 10 }
        """;

    private static readonly WorkerSlot First = new("hand/0", "hand", "cpu", 0);
    private static readonly WorkerSlot Second = new("hand/1", "hand", "cpu", 0);
    private static readonly WorkerSlot Third = new("other/0", "other", "cpu", 0);
    [Fact]
    public async Task A_slot_leases_up_to_K_lora_trials_as_one_pack_baselines_alone_and_parallel_counts_slots()
    {
        await Cluster.SubmitAsync("fixed", Spec("fixed", "4", parallel: 3, baselines: "[full]"));
        var sweep = Cluster.Sweep("fixed");

        var pack = await sweep.LeasePackAsync(First, 16);
        Assert.Equal(4, pack.Count);
        Assert.All(pack, l => Assert.Equal(TrialKind.Lora, l.Kind));
        Assert.All(pack, l => Assert.Equal($"{pack[0].TrialId}.1", l.Pack));
        Assert.All(pack, l => Assert.Equal(1, l.Attempt));

        // The slot asks again (its reply was lost): the same pack, same attempts, nothing more leased.
        var again = await sweep.LeasePackAsync(First, 16);
        Assert.Equal(pack.Select(l => (l.TrialId, l.Attempt, l.Pack)), again.Select(l => (l.TrialId, l.Attempt, l.Pack)));

        var second = await sweep.LeasePackAsync(Second, 16);
        Assert.Equal(4, second.Count);
        Assert.NotEqual(pack[0].Pack, second[0].Pack);
        var third = await sweep.LeasePackAsync(Third, 16);
        Assert.Equal(2, third.Count); // the last two LoRA trials; the full baseline never joins a pack
        Assert.All(third, l => Assert.Equal(TrialKind.Lora, l.Kind));

        // parallel: 3 counts slots, not trials: ten trials run, and a fourth slot gets nothing.
        Assert.Empty(await sweep.LeasePackAsync(new WorkerSlot("fourth/0", "fourth", "cpu", 0), 16));
        var trials = await sweep.GetTrialsAsync();
        Assert.Equal(10, trials.Count(t => t.State == TrialState.Running));
        Assert.All(trials.Where(t => t.State == TrialState.Running), t => Assert.NotNull(t.Pack));
    }

    [Fact]
    public async Task Auto_shares_the_compatible_queue_over_parallel_slots_and_off_leases_one_trial()
    {
        await Cluster.SubmitAsync("auto", Spec("auto", "auto", parallel: 2));
        var auto = await Cluster.Sweep("auto").LeasePackAsync(First, 16);
        Assert.Equal(5, auto.Count); // ten compatible trials over two slots

        await Cluster.SubmitAsync("off", Spec("off", "off", parallel: 2));
        var off = Assert.Single(await Cluster.Sweep("off").LeasePackAsync(First, 16));
        Assert.Null(off.Pack);

        // A runner that trains alone asks for packs of one.
        await Cluster.SubmitAsync("alone", Spec("alone", "4", parallel: 2));
        Assert.Null(Assert.Single(await Cluster.Sweep("alone").LeasePackAsync(First, 1)).Pack);
    }

    [Fact]
    public async Task When_a_packs_slot_goes_silent_every_member_is_re_queued_in_the_same_check_even_one_whose_last_beat_came_later()
    {
        await Cluster.SubmitAsync("lost-pack", Spec("lost-pack", "4", parallel: 2));
        var sweep = Cluster.Sweep("lost-pack");
        var pack = await sweep.LeasePackAsync(First, 16);
        Assert.Equal(4, pack.Count);

        // One member's heartbeat keeps arriving (its last beat lands after the others'); the other three go silent.
        using var stop = new CancellationTokenSource();
        var beating = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await sweep.ReportProgressAsync(new TrialProgressReport(pack[3].TrialId, 1, 5, 10, new Dictionary<string, double>(), 0, false));
                await Task.Delay(300);
            }
        });
        IReadOnlyList<TrialRecord> trials;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            await Task.Delay(100);
            trials = (await sweep.GetTrialsAsync()).Where(t => pack.Any(l => l.TrialId == t.TrialId)).ToList();
        } while (trials.All(t => t.State == TrialState.Running) && waited.Elapsed < TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await beating;

        // The first check that finds the slot lost re-queues the whole pack: a slot asking next gets all four again.
        Assert.All(trials, t => Assert.Equal(TrialState.Queued, t.State));
        var again = await sweep.LeasePackAsync(Second, 16);
        Assert.Equal(pack.Select(l => l.TrialId).Order(), again.Select(l => l.TrialId).Order());
    }
}
