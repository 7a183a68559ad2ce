using System.Diagnostics;
using Xunit.Abstractions;

namespace Orchestrator.Reliability.Tests;

public sealed class KillPackSiloTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_silo_killed_mid_pack_re_queues_every_member_and_each_finishes_exactly_once_resumed_from_its_checkpoint()
    {
        await using var cluster = await FaultCluster.StartAsync(output);
        // Four LoRA trials, `pack: 4`: the first free slot leases all four as one pack. The pack is seen early, and between
        // that and the kill come a wait for `workers` to show it (its slot reports every 2 s) and one `workers` CLI run:
        // about 4 s, 1,000 steps of a pack alone on a core; 1,500 are left at least. Training after the kill resumes from
        // the newest checkpoint, so the trials are no longer than that margin needs (3,600 steps before: 84 s).
        var sweep = new TestSweep("kill-pack", Ranks: 4, Steps: 2000, CheckpointEvery: 40) { Pack = "4" };
        var clock = Stopwatch.StartNew();
        // Past its first checkpoints, and far enough from the end that the pack still trains when killed.
        var running = await cluster.SubmitAndWaitForOnePackAsync(sweep, 2 * sweep.CheckpointEvery, sweep.Steps / 4);
        var pack = running[0].Pack!;
        var silo = cluster.SiloRunning(running[0]);
        Assert.True(silo >= 0, string.Join("; ", running));
        // `workers` shows the slot training the pack: waited for through the silos' API (one member speaks for the slot
        // every 2 s), then read once through the CLI, as a user would.
        await cluster.WaitForWorkersAsync($"{running[0].Worker} shown training pack {pack}",
            workers => workers.Any(w => w.WorkerId == running[0].Worker && w.Pack == pack), TimeSpan.FromSeconds(20));
        var workers = await cluster.CliAsync("workers", "--json");
        Assert.True(workers.ExitCode == 0, workers.ToString());
        var slot = CliJson.Parse<List<WorkerRow>>(workers.Stdout).SingleOrDefault(w => w.WorkerId == running[0].Worker);
        Assert.True(slot?.Pack == pack, $"workers shows {slot} for {running[0].Worker}");
        Assert.Contains(slot!.TrialId, running.Select(t => t.TrialId));
        var killed = Stopwatch.StartNew();
        await cluster.KillSiloAsync(silo);
        output.WriteLine($"kill -9 {cluster.Silos[silo].Name} at {clock.Elapsed.TotalSeconds:0.0} s while it trained pack {pack}: {string.Join("; ", running)}");

        await cluster.WaitFinishedAsync(sweep.Name, TimeSpan.FromSeconds(240));
        var outcome = await cluster.AssertExactlyOnceAsync(sweep.Name, sweep.Ranks);
        foreach (var member in outcome.Trials)
        {
            Assert.True(member.Attempts >= 2, $"{member.TrialId} ran once: {member}");
            Assert.NotEqual(pack, member.Pack); // its last attempt ran in a pack formed again, not the killed one
            using var result = await cluster.ResultAsync(sweep.Name, member.TrialId);
            Assert.Equal(System.Text.Json.JsonValueKind.String, result.RootElement.GetProperty("resumed_from").ValueKind);
            Assert.Equal(System.Text.Json.JsonValueKind.Object, result.RootElement.GetProperty("pack").ValueKind);
        }
        output.WriteLine($"kill mid-pack: every member re-queued and finished exactly once, resumed from its checkpoint, " +
            $"{killed.Elapsed.TotalSeconds:0.0} s after the kill (heartbeat timeout {FaultCluster.HeartbeatTimeoutSeconds} s); {outcome}");
    }
}

/// <summary>One element of <c>workers --json</c>.</summary>
public sealed record WorkerRow(string WorkerId, string? TrialId, string? Pack);
