using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Orchestrator.Reliability.Tests;

/// <summary>
/// Graceful drain (issue 6): SIGTERM to a silo that trains. The silo stops taking trials, stops its running trial
/// at the next progress report, checkpoints it at that step, hands it back, and exits on its own. The trial is
/// re-queued without counting as a failure and resumes elsewhere from the drain checkpoint, losing no steps.
/// </summary>
public sealed partial class GracefulDrainTests(ITestOutputHelper output)
{
    /// <summary>The silo's host shutdown timeout (SiloHostOptions.ShutdownTimeout).</summary>
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_silo_sent_SIGTERM_checkpoints_its_trial_hands_it_back_and_exits_and_the_trial_resumes_elsewhere_without_a_failure()
    {
        await using var cluster = await FaultCluster.StartAsync(output);
        // One silo stays free to take the released trial at once. Long enough trials that the victim is surely mid-training
        // at SIGTERM: the wait sees a step up to FaultCluster.ObservationLagSteps behind the trainer.
        var sweep = new TestSweep("drain", Ranks: 2, Steps: 2 * FaultCluster.ObservationLagSteps + 200, CheckpointEvery: 100);
        var clock = Stopwatch.StartNew();
        await cluster.SubmitAsync(sweep);

        // Past two periodic checkpoints and off a checkpoint boundary, so a drain checkpoint is distinguishable.
        var threshold = 2 * sweep.CheckpointEvery + 5;
        bool Candidate(TrialRow t) => t.Is("running") && t.Step >= threshold && t.Step < sweep.Steps - FaultCluster.ObservationLagSteps && cluster.SiloRunning(t) >= 0;
        var running = await cluster.WaitForTrialsAsync(sweep.Name, $"a trial running past step {threshold}",
            trials => trials.Any(Candidate), TimeSpan.FromSeconds(120));
        var victim = running.First(Candidate);
        var silo = cluster.SiloRunning(victim);
        var process = cluster.Silos[silo].Process!;
        var checkpointsBefore = await cluster.CheckpointsAsync(sweep.Name, victim.TrialId);
        // `trials` lags the trainer by up to a second of progress reports; a stored checkpoint is a step surely reached.
        var observedStep = Math.Max(victim.Step, checkpointsBefore.Count > 0 ? checkpointsBefore[0].Step : 0);

        var drained = Stopwatch.StartNew();
        Assert.Equal(0, Kill(process.Id, Sigterm));
        output.WriteLine($"SIGTERM to {cluster.Silos[silo].Name} (pid {process.Id}) at {clock.Elapsed.TotalSeconds:0.0} s while it trained {victim}; " +
            $"newest periodic checkpoint then: step {(checkpointsBefore.Count > 0 ? checkpointsBefore[0].Step : 0)}");

        // The silo exits on its own, within the host's shutdown timeout, with exit code 0.
        while (!process.HasExited && drained.Elapsed < ShutdownTimeout + TimeSpan.FromSeconds(5)) await Task.Delay(100);
        var exitedAfter = drained.Elapsed;
        Assert.True(process.HasExited, $"{cluster.Silos[silo].Name} still runs {exitedAfter.TotalSeconds:0} s after SIGTERM\n{process.LogTail()}");
        cluster.Silos[silo].Process = null;
        await process.DisposeAsync(); // writes "exited with code N" to the silo's log
        var exitCode = ExitCode(process.LogPath);
        Assert.True(exitCode == 0, $"{cluster.Silos[silo].Name} exited with code {exitCode}\n{process.LogTail()}");
        Assert.True(exitedAfter < ShutdownTimeout, $"exit took {exitedAfter.TotalSeconds:0.0} s, past the {ShutdownTimeout.TotalSeconds:0} s shutdown timeout");

        // Re-queued, not failed: no error and a second attempt, on another silo.
        var resumed = await cluster.WaitForTrialsAsync(sweep.Name, $"{victim.TrialId} taken over by another silo",
            trials => trials.Single(t => t.TrialId == victim.TrialId) is { Attempts: >= 2 } t
                && (t.Is("succeeded") || (t.Is("running") && cluster.SiloRunning(t) is var s && s >= 0 && s != silo)),
            TimeSpan.FromSeconds(60));
        var resumedAfter = drained.Elapsed;
        var takeover = resumed.Single(t => t.TrialId == victim.TrialId);
        Assert.Null(takeover.Error);

        await cluster.WaitFinishedAsync(sweep.Name, TimeSpan.FromSeconds(120));
        var outcome = await cluster.AssertExactlyOnceAsync(sweep.Name, sweep.Ranks);

        var final = outcome.Trials.Single(t => t.TrialId == victim.TrialId);
        Assert.True(final.Is("succeeded"), $"{victim.TrialId}: {final}");
        Assert.Equal(2, final.Attempts);
        Assert.Null(final.Error);
        Assert.DoesNotContain(outcome.Trials, t => t.Error is not null);
        Assert.All(outcome.Trials.Where(t => t.TrialId != victim.TrialId), t => Assert.Equal(1, t.Attempts));

        // The sweep's journal (Redis): attempt 1 ended with one hand-back by its worker, not a missed-heartbeat
        // re-queue and not a failure; its last checkpoint event is the drain checkpoint.
        var journal = await JournalAsync(cluster, sweep.Name);
        var events = journal.Where(e => Text(e, "trial") == victim.TrialId).ToList();
        var requeues = events.Where(e => Text(e, "type") == "requeued").ToList();
        Assert.True(requeues.Count == 1 && Text(requeues[0], "reason") == "released by its worker",
            $"{victim.TrialId} re-queued as [{string.Join("; ", requeues.Select(e => e.GetRawText()))}]; journal:\n" +
            string.Join("\n", journal.Select(e => e.GetRawText()).Select(t => t.Length > 200 ? t[..200] : t)));
        Assert.DoesNotContain(events, e => Text(e, "type") == "failed");

        // The drain checkpoint, stored and reported before the trial was handed back: nothing trained before SIGTERM
        // is lost. It is attempt 1's last reported checkpoint, from the journal: storage alone cannot tell it from one
        // the second attempt writes as soon as it resumes (its periodic step-200 once passed for attempt 1's drain
        // checkpoint, which was at step 190, when storage was read after the silo had exited).
        var drain = events.Where(e => Text(e, "type") == "checkpointed" && Number(e, "attempt") == 1).MaxBy(e => Number(e, "step"));
        var stored = await cluster.CheckpointsAsync(sweep.Name, victim.TrialId);
        Assert.True(drain.ValueKind == JsonValueKind.Object, $"attempt 1 of {victim.TrialId} reported no checkpoint; stored: [{string.Join(", ", stored.Select(c => c.Step))}]");
        var drainStep = Number(drain, "step");
        Assert.True(drainStep >= observedStep,
            $"attempt 1's last checkpoint is at step {drainStep}, but step {observedStep} was reached before SIGTERM; stored: [{string.Join(", ", stored.Select(c => c.Step))}]");
        Assert.Contains(drainStep, stored.Select(c => c.Step));
        var requeuedAt = Time(requeues[0]);
        var releasedAt = events.Where(e => Text(e, "type") == "leased" && Number(e, "attempt") == 2).Select(Time).Single();

        using var result = await cluster.ResultAsync(sweep.Name, victim.TrialId);
        var resumedFrom = result.RootElement.GetProperty("resumed_from");
        Assert.True(resumedFrom.ValueKind == JsonValueKind.String,
            $"{victim.TrialId} was drained with a checkpoint at step {drainStep} but its second attempt started fresh: {result.RootElement}");

        output.WriteLine($"graceful drain: {cluster.Silos[silo].Name} exited with code {exitCode} {exitedAfter.TotalSeconds:0.0} s after SIGTERM " +
            $"(shutdown timeout {ShutdownTimeout.TotalSeconds:0} s); step {observedStep} reached before SIGTERM, drain checkpoint at step {drainStep} " +
            $"(steps lost {Math.Max(0, observedStep - drainStep)}); {victim.TrialId} running again on {takeover.Worker} {resumedAfter.TotalSeconds:0.0} s after SIGTERM " +
            $"(re-queued as 'released by its worker', not by the {FaultCluster.HeartbeatTimeoutSeconds} s heartbeat timeout), re-leased {(releasedAt - requeuedAt).TotalMilliseconds:0} ms after the hand-back (journal), resumed from {resumedFrom.GetString()}; " +
            $"failures 0; sweep finished at {clock.Elapsed.TotalSeconds:0.0} s; {outcome}");
    }

    [Fact]
    public async Task A_silo_sent_SIGTERM_mid_pack_hands_every_member_back_with_a_drain_checkpoint_and_each_resumes_elsewhere()
    {
        await using var cluster = await FaultCluster.StartAsync(output);
        // `pack: 4`: the first free slot leases all four LoRA trials as one pack.
        var sweep = new TestSweep("drain-pack", Ranks: 4, Steps: 1600, CheckpointEvery: 40) { Pack = "4" };
        var clock = Stopwatch.StartNew();
        var threshold = 2 * sweep.CheckpointEvery + 5;
        var running = await cluster.SubmitAndWaitForOnePackAsync(sweep, threshold, sweep.Steps - FaultCluster.ObservationLagSteps / 2);
        var silo = cluster.SiloRunning(running[0]);
        Assert.True(silo >= 0, string.Join("; ", running));
        var process = cluster.Silos[silo].Process!;
        var observed = new Dictionary<string, long>();
        foreach (var t in running)
        {
            var stored = await cluster.CheckpointsAsync(sweep.Name, t.TrialId);
            observed[t.TrialId] = Math.Max(t.Step, stored.Count > 0 ? stored[0].Step : 0);
        }

        var drained = Stopwatch.StartNew();
        Assert.Equal(0, Kill(process.Id, Sigterm));
        output.WriteLine($"SIGTERM to {cluster.Silos[silo].Name} at {clock.Elapsed.TotalSeconds:0.0} s while it trained pack {running[0].Pack}: {string.Join("; ", running)}");
        while (!process.HasExited && drained.Elapsed < ShutdownTimeout + TimeSpan.FromSeconds(5)) await Task.Delay(100);
        var exitedAfter = drained.Elapsed;
        Assert.True(process.HasExited, $"{cluster.Silos[silo].Name} still runs {exitedAfter.TotalSeconds:0} s after SIGTERM\n{process.LogTail()}");
        cluster.Silos[silo].Process = null;
        await process.DisposeAsync();
        Assert.Equal(0, ExitCode(process.LogPath));

        // Every member's drain checkpoint was stored before it was handed back: nothing trained before SIGTERM is lost.
        var drainSteps = new Dictionary<string, long>();
        foreach (var (trial, step) in observed)
        {
            var stored = await cluster.CheckpointsAsync(sweep.Name, trial);
            Assert.NotEmpty(stored);
            drainSteps[trial] = stored[0].Step;
            Assert.True(stored[0].Step >= step, $"{trial}: newest checkpoint at step {stored[0].Step}, but step {step} was reached before SIGTERM");
        }

        await cluster.WaitFinishedAsync(sweep.Name, TimeSpan.FromSeconds(240));
        var outcome = await cluster.AssertExactlyOnceAsync(sweep.Name, sweep.Ranks);
        Assert.DoesNotContain(outcome.Trials, t => t.Error is not null);
        Assert.All(outcome.Trials, t => Assert.Equal(2, t.Attempts));
        var journal = await JournalAsync(cluster, sweep.Name);
        foreach (var trial in observed.Keys)
        {
            var events = journal.Where(e => Text(e, "trial") == trial).ToList();
            var requeues = events.Where(e => Text(e, "type") == "requeued").ToList();
            Assert.True(requeues.Count == 1 && Text(requeues[0], "reason") == "released by its worker",
                $"{trial} re-queued as [{string.Join("; ", requeues.Select(e => e.GetRawText()))}]");
            Assert.DoesNotContain(events, e => Text(e, "type") == "failed");
            using var result = await cluster.ResultAsync(sweep.Name, trial);
            Assert.Equal(JsonValueKind.String, result.RootElement.GetProperty("resumed_from").ValueKind);
        }
        output.WriteLine($"graceful drain mid-pack: exit 0 {exitedAfter.TotalSeconds:0.0} s after SIGTERM; steps reached / drain checkpoints: " +
            $"{string.Join(", ", observed.Select(o => $"{o.Key} {o.Value}/{drainSteps[o.Key]}"))}; every member released by its worker, resumed, " +
            $"finished exactly once at {clock.Elapsed.TotalSeconds:0.0} s; {outcome}");
    }

    /// <summary>The sweep's event journal, read from Redis with redis-cli: one JSON event per list element.</summary>
    private static async Task<IReadOnlyList<JsonElement>> JournalAsync(FaultCluster cluster, string sweep)
    {
        var keys = (await RedisCliAsync(cluster, "--scan", "--pattern", $"*journal:sweeps/{sweep}"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(keys.Length == 1, $"journal keys for {sweep}: [{string.Join(", ", keys)}]");
        var lines = (await RedisCliAsync(cluster, "--raw", "LRANGE", keys[0], "0", "-1"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    private static async Task<string> RedisCliAsync(FaultCluster cluster, params string[] args)
    {
        var cli = Path.Combine(Path.GetDirectoryName(cluster.Redis.Executable)!, "redis-cli");
        var start = new ProcessStartInfo(File.Exists(cli) ? cli : "redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["-h", "127.0.0.1", "-p", cluster.Redis.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. args])
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"redis-cli {string.Join(' ', args)}: exit {process.ExitCode} {await stderr}");
        return await stdout;
    }

    private static JsonElement? Property(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.EnumerateObject().FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) is { Value.ValueKind: not JsonValueKind.Undefined } p
            ? p.Value : null;

    private static string? Text(JsonElement e, string name) => Property(e, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    private static DateTimeOffset Time(JsonElement e) => DateTimeOffset.Parse(Text(e, "at")!, System.Globalization.CultureInfo.InvariantCulture);

    private static long Number(JsonElement e, string name) => Property(e, name) is { ValueKind: JsonValueKind.Number } v ? v.GetInt64() : -1;

    private static int? ExitCode(string logPath)
    {
        var matches = ExitLine().Matches(File.ReadAllText(logPath));
        return matches.Count == 0 ? null : int.Parse(matches[^1].Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^--- \S+ exited with code (-?\d+)", RegexOptions.Multiline)]
    private static partial Regex ExitLine();

    private const int Sigterm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
