using System.Diagnostics;
using Azure.Storage.Blobs.Models;
using Orchestrator.TestServers;
using Xunit.Abstractions;

namespace Orchestrator.Reliability.Tests;

public sealed class CorruptCheckpointTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_corrupt_newest_checkpoint_is_detected_and_the_trial_resumes_from_an_older_good_one()
    {
        await using var cluster = await FaultCluster.StartAsync(output);
        // Long enough trials that the victim is surely mid-training when killed: the wait sees a step up to
        // FaultCluster.ObservationLagSteps behind the trainer, so a victim seen nearer its end may already have finished
        // (seen once: "step 300/300", and the kill then found nothing to re-run).
        var sweep = new TestSweep("corrupt-checkpoint", Ranks: 3, Steps: 2 * FaultCluster.ObservationLagSteps + 300, CheckpointEvery: 100);
        bool Candidate(TrialRow t) => t.Is("running") && t.Step >= 3 * sweep.CheckpointEvery + 5 && t.Step < sweep.Steps - FaultCluster.ObservationLagSteps
            && cluster.SiloRunning(t) >= 0;
        await cluster.SubmitAsync(sweep);

        var running = await cluster.WaitForTrialsAsync(sweep.Name, "a trial with three checkpoints, far from its end",
            trials => trials.Any(Candidate), TimeSpan.FromSeconds(150));
        var victim = running.First(Candidate);
        var silo = cluster.SiloRunning(victim);
        await cluster.KillSiloAsync(silo);
        var killed = Stopwatch.StartNew();

        // The trainer is dead, so no newer checkpoint can appear. Flip bytes in the newest two, keeping the sha256
        // metadata they were written with, as a bad disk or a torn copy would. The sweep leases the newest three it
        // recorded, so whether or not the kill beat the newest one's report, an older good one remains.
        var checkpoints = await cluster.CheckpointsAsync(sweep.Name, victim.TrialId);
        Assert.True(checkpoints.Count >= 3, $"{victim.TrialId} has {checkpoints.Count} checkpoints");
        foreach (var (_, blobs) in checkpoints.Take(2))
            foreach (var name in blobs.Where(b => b.EndsWith(".safetensors", StringComparison.Ordinal)))
                await CorruptAsync(cluster, name);
        output.WriteLine($"killed {cluster.Silos[silo].Name} running {victim}; corrupted checkpoints at steps " +
            $"{string.Join(", ", checkpoints.Take(2).Select(c => c.Step))}; good ones at {string.Join(", ", checkpoints.Skip(2).Select(c => c.Step))}");

        await cluster.WaitFinishedAsync(sweep.Name, TimeSpan.FromSeconds(180));
        var outcome = await cluster.AssertExactlyOnceAsync(sweep.Name, sweep.Ranks);
        Assert.True(outcome.Trials.Single(t => t.TrialId == victim.TrialId).Attempts >= 2);
        var logs = string.Concat(cluster.Silos.Select(s => File.ReadAllText(s.LogPath)));
        Assert.Contains($"Trial {victim.TrialId}: checkpoint", logs);
        Assert.Contains("is corrupt", logs);
        using var result = await cluster.ResultAsync(sweep.Name, victim.TrialId);
        var resumedFrom = result.RootElement.GetProperty("resumed_from");
        Assert.True(resumedFrom.ValueKind == System.Text.Json.JsonValueKind.String, $"{victim.TrialId} started from scratch although step {checkpoints[2].Step} was good");
        output.WriteLine($"corrupt checkpoint: detected (silo log: 'is corrupt ... trying an older one'); {victim.TrialId} resumed from the older good checkpoint " +
            $"and finished {killed.Elapsed.TotalSeconds:0.0} s after the kill; trials re-run {outcome.Rerun}; {outcome}");
    }

    private static async Task CorruptAsync(FaultCluster cluster, string name)
    {
        var blob = cluster.Artifacts.GetBlobClient(name);
        var download = (await blob.DownloadContentAsync()).Value;
        var bytes = download.Content.ToArray();
        for (var i = bytes.Length / 2; i < Math.Min(bytes.Length, bytes.Length / 2 + 64); i++) bytes[i] ^= 0xFF;
        await blob.UploadAsync(new BinaryData(bytes), new BlobUploadOptions { Metadata = download.Details.Metadata });
    }
}
