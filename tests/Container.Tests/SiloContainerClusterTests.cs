using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Orchestrator.Container.Tests;

/// <summary>
/// Issue 17: three silo containers from the image, wired as the Kubernetes manifests wire pods, run sweeps submitted
/// by the CLI from the same image; a `podman stop` drains and exits 0, and a `podman kill` loses nothing.
/// </summary>
[Collection(SiloImageCollection.Name)]
public sealed class SiloContainerClusterTests(SiloImage image, ITestOutputHelper output)
{
    /// <summary>
    /// A copy of sweeps/mnist-smoke.yaml with trials long enough for a fault to land mid-training (its own 20 steps end
    /// before a kill can), checkpointing so a resume point exists, and three trials, one per silo, so work is left for the survivors.
    /// </summary>
    private static readonly string FaultSweep = new MnistTestSweep("container-faults")
    {
        Description = "mnist-smoke with longer trials, for the container fault test", Parallel = 3, MaxFailures = 1,
        Rank = "{ values: [1, 2, 3] }", MaxSteps = FaultSteps, CheckpointEvery = 40,
    }.Yaml;

    private const int FaultSteps = 1200;

    [Fact]
    public async Task Three_silo_containers_run_mnist_smoke_from_the_image_CLI_drain_on_SIGTERM_and_survive_a_kill()
    {
        _ = image;
        var clock = Stopwatch.StartNew();
        await using var cluster = await ContainerCluster.StartAsync(output, silos: 3);
        output.WriteLine($"3 silo containers started (startup probe 200) in {clock.Elapsed.TotalSeconds:0.0} s: " +
            string.Join(", ", cluster.Silos.Select(s => $"{s.Name} {s.StartedAfter.TotalSeconds:0.0} s")));

        // Probes as the manifests use them: startup, then readiness and liveness, all 200 on the http port.
        foreach (var silo in cluster.Silos)
        {
            await silo.WaitForAsync("/health/ready", HttpStatus.Ok, TimeSpan.FromSeconds(60));
            Assert.Equal(200, await silo.ProbeAsync("/health/live"));
            Assert.Equal(200, await silo.ProbeAsync("/health/startup"));
        }

        // 1. sweeps/mnist-smoke.yaml, submitted by the image's CLI as the submit Job does, completes exactly once.
        var submitted = Stopwatch.StartNew();
        var submit = await cluster.SubmitFromImageAsync(Path.Combine(Cli.RepositoryRoot, "sweeps"), "mnist-smoke.yaml");
        Assert.True(submit.ExitCode == 0, $"submit from the image: {submit}\n{await cluster.LogTailsAsync()}");
        var smoke = await cluster.AssertExactlyOnceAsync("mnist-smoke", expectedTrials: 3);
        output.WriteLine($"mnist-smoke: submitted from the image and finished in {submitted.Elapsed.TotalSeconds:0.0} s: {string.Join("; ", smoke)}");

        // 2. Longer trials, one per silo. SIGTERM (podman stop, grace period 180 s) to a silo container that trains:
        // it drains and exits 0 (first, while every silo trains, so a trial surely runs when it lands).
        var sweeps = Path.Combine(cluster.Root, "sweeps");
        Directory.CreateDirectory(sweeps);
        await File.WriteAllTextAsync(Path.Combine(sweeps, "container-faults.yaml"), FaultSweep);
        submit = await cluster.SubmitFromImageAsync(sweeps, "container-faults.yaml");
        Assert.True(submit.ExitCode == 0, $"submit from the image: {submit}");
        // At most halfway: `trials` lags the trainer by a second or two of progress, and a trial that ends before the
        // fault lands (a 400-step trial did, once training got faster) leaves nothing to drain or re-queue.
        bool MidTraining(TrialRow t, int exceptSilo) => t.Is("running") && t.Step >= 50 && t.Step < FaultSteps / 2
            && cluster.SiloRunning(t) is var s && s >= 0 && s != exceptSilo;
        var running = await cluster.WaitForTrialsAsync("container-faults", "a trial mid-training", trials => trials.Any(t => MidTraining(t, -1)), TimeSpan.FromMinutes(4));
        var drained = running.First(t => MidTraining(t, -1));
        var drainingIndex = cluster.SiloRunning(drained);
        var draining = cluster.Silos[drainingIndex];
        var sinceTerm = Stopwatch.StartNew();
        var stop = Podman.RunAsync(["stop", "--time", ContainerCluster.GracePeriodSeconds.ToString(CultureInfo.InvariantCulture), draining.ContainerName],
            TimeSpan.FromSeconds(ContainerCluster.GracePeriodSeconds + 30));
        // Readiness turns unready while it drains (the Deployment's readinessProbe takes it out of the Service), and
        // liveness stays 200 (a failing liveness probe would kill the container mid-drain). Logged, not asserted: an
        // MNIST drain takes ~150 ms, quicker than probes through podman's port mapping are sure to land; DrainProbeTests
        // holds a drain open and asserts both.
        int? readyWhileDraining = null;
        var liveWhileDraining = new HashSet<int?>();
        while (!stop.IsCompleted)
        {
            if (await draining.ProbeAsync("/health/ready") is { } code and not 200)
            {
                readyWhileDraining ??= code;
                liveWhileDraining.Add(await draining.ProbeAsync("/health/live"));
            }
            await Task.Delay(20);
        }
        var stopResult = await stop;
        var drainTime = sinceTerm.Elapsed;
        Assert.True(stopResult.ExitCode == 0, $"podman stop: {stopResult}");
        var (status, exitCode) = await draining.StateAsync();
        output.WriteLine($"SIGTERM to {draining.Name} while it trained {drained}: exited with code {exitCode} {drainTime.TotalSeconds:0.0} s later " +
            $"(grace period {ContainerCluster.GracePeriodSeconds} s); /health/ready while draining: {readyWhileDraining?.ToString(CultureInfo.InvariantCulture) ?? "not seen (the drain was quicker than a probe)"}; " +
            $"/health/live meanwhile: {string.Join(", ", liveWhileDraining.Select(c => c?.ToString(CultureInfo.InvariantCulture) ?? "no answer"))}");
        Assert.Equal("exited", status);
        Assert.True(exitCode == 0, $"{draining.ContainerName} exited with code {exitCode}\n{await cluster.LogTailsAsync(60)}");
        Assert.True(drainTime < TimeSpan.FromSeconds(ContainerCluster.GracePeriodSeconds), $"drain took {drainTime.TotalSeconds:0} s");

        // 3. kill -9 (podman kill) the container of another silo mid-training: its trial is re-queued by missed heartbeats.
        running = await cluster.WaitForTrialsAsync("container-faults", "a trial mid-training on a silo left", trials => trials.Any(t => MidTraining(t, drainingIndex)), TimeSpan.FromMinutes(4));
        var victim = running.First(t => MidTraining(t, drainingIndex));
        var killed = cluster.Silos[cluster.SiloRunning(victim)];
        var sinceKill = Stopwatch.StartNew();
        await Podman.CheckedAsync(["kill", killed.ContainerName]);
        output.WriteLine($"podman kill {killed.Name} while it trained {victim}");
        // Re-queued: back in the queue (attempt lost with the silo), or already leased again by the last silo.
        var requeued = await cluster.WaitForTrialsAsync("container-faults", $"{victim.TrialId} re-queued after the kill",
            trials => trials.Single(t => t.TrialId == victim.TrialId) is var t && (t.Is("queued") || t.Attempts > victim.Attempts),
            TimeSpan.FromMinutes(3));
        var requeueTime = sinceKill.Elapsed;
        output.WriteLine($"kill: {victim.TrialId} re-queued {requeueTime.TotalSeconds:0.0} s after `podman kill` " +
            $"({requeued.Single(t => t.TrialId == victim.TrialId)}; heartbeat timeout {ContainerCluster.HeartbeatTimeoutSeconds} s)");
        Assert.Equal("exited", (await killed.StateAsync()).Status);

        // The last silo finishes the sweep: every trial exactly once; the drained trial was handed back, not failed.
        var trials = await cluster.AssertExactlyOnceAsync("container-faults", expectedTrials: 3);
        Assert.True(trials.Single(t => t.TrialId == victim.TrialId).Attempts >= 2);
        Assert.True(trials.Single(t => t.TrialId == drained.TrialId).Attempts >= 2);
        Assert.All(trials, t => Assert.Null(t.Error));
        // Both took up their trial from a checkpoint in Blob storage, not from step 0: the killed silo's periodic one,
        // the drained silo's drain checkpoint.
        foreach (var trial in new[] { victim.TrialId, drained.TrialId }.Distinct())
        {
            using var result = await cluster.ResultAsync("container-faults", trial);
            Assert.True(result.RootElement.GetProperty("resumed_from").ValueKind == System.Text.Json.JsonValueKind.String,
                $"{trial} started again from step 0: {result.RootElement}");
        }
        output.WriteLine($"container-faults finished on {cluster.Silos.Count(s => s != killed && s != draining)} silo(s) left, " +
            $"{clock.Elapsed.TotalSeconds:0} s into the test: {string.Join("; ", trials)}");
        output.WriteLine($"FIGURES: re-queue after podman kill {requeueTime.TotalSeconds:0.0} s; drain after SIGTERM {drainTime.TotalSeconds:0.0} s (exit {exitCode})");
    }
}
