using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Orchestrator.TestServers;
using Xunit.Abstractions;

namespace Orchestrator.Reliability.Tests;

public sealed partial class WatchReconnectTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Watch_whose_gateway_silo_is_killed_reconnects_and_exits_0_when_the_sweep_finishes()
    {
        await using var cluster = await FaultCluster.StartAsync(output);
        var sweep = new TestSweep("watch-drop", Ranks: 4);
        await cluster.SubmitAsync(sweep);
        // One gateway address, as through a port-forward: killing its silo drops the watch's only connection.
        var gateway = $"127.0.0.1:{cluster.Silos[0].GatewayPort.ToString(CultureInfo.InvariantCulture)}";
        var log = Path.Combine(cluster.Root, "watch.log");
        await using var watch = Cli.Start(["watch", sweep.Name, "--cluster", gateway], log, cluster.Root);

        await cluster.WaitForTrialsAsync(sweep.Name, "trials training",
            trials => trials.Any(t => t.Is("running") && t.Step > 0), TimeSpan.FromSeconds(150));
        // Connected means past its first connect, which a drop fails for good ("cannot reach the cluster"): its TCP
        // connection is there before that (seen once: killed 1.8 s after it started, the watch exited 4, unreachable), the first poll's
        // lines (a running trial "started on" its silo) only after.
        await WaitForAsync(async () => File.ReadAllText(log).Contains(" started on ", StringComparison.Ordinal)
                && (await GatewaysOfAsync(watch.Id, cluster)).Contains(0), TimeSpan.FromSeconds(30),
            () => $"the watch never connected to {gateway} and showed the sweep\n{ChildProcess.ReadLogTail(log)}");
        var dropped = Stopwatch.StartNew();
        await cluster.KillSiloAsync(0);
        output.WriteLine($"watch connected through {cluster.Silos[0].Name}'s gateway {gateway}: killed -9");
        await Task.Delay(TimeSpan.FromSeconds(2));
        await cluster.StartSiloAsync(0);
        var siloBack = dropped.Elapsed;

        // Reconnected: the watch noticed the drop, then holds a connection to the restarted silo's gateway again (its
        // only address), or has already exited 0, which it does only after reading the finished sweep through one.
        var reconnected = await WaitForAsync(async () => File.ReadAllText(log).Contains("connection lost", StringComparison.Ordinal)
            && ((await GatewaysOfAsync(watch.Id, cluster)).Contains(0) || watch.HasExited),
            TimeSpan.FromSeconds(90), () => $"the watch neither reconnected to {gateway} nor exited within 90 s of the silo's restart\n{ChildProcess.ReadLogTail(log)}");
        Assert.True(await watch.WaitForExitAsync(TimeSpan.FromSeconds(180)), $"watch still running 180 s after the drop\n{ChildProcess.ReadLogTail(log)}\n{cluster.LogTails()}");
        await watch.KillAsync(); // already exited: records the exit code in the log
        var text = File.ReadAllText(log);
        var exit = ExitLine().Matches(text).Last().Groups[1].Value;
        Assert.True(exit == "0", $"watch exited {exit}\n{ChildProcess.ReadLogTail(log)}");
        var outcome = await cluster.AssertExactlyOnceAsync(sweep.Name, sweep.Ranks);
        output.WriteLine($"watch drop: gateway silo back {siloBack.TotalSeconds:0.0} s after the kill, watch reconnected to it {(siloBack + reconnected).TotalSeconds:0.0} s after the kill; " +
            $"exited 0 when the sweep finished ({dropped.Elapsed.TotalSeconds:0.0} s after the drop); trials re-run {outcome.Rerun}; {outcome}");
    }

    /// <summary>The silos whose gateway port the process has an established TCP connection to (from `ss`).</summary>
    private static async Task<IReadOnlyList<int>> GatewaysOfAsync(int pid, FaultCluster cluster)
    {
        var start = new ProcessStartInfo("ss", "-tnpH state established") { RedirectStandardOutput = true, UseShellExecute = false };
        using var ss = Process.Start(start)!;
        var text = await ss.StandardOutput.ReadToEndAsync();
        await ss.WaitForExitAsync();
        var mine = text.Split('\n').Where(line => line.Contains($"pid={pid.ToString(CultureInfo.InvariantCulture)},", StringComparison.Ordinal));
        return Enumerable.Range(0, cluster.Silos.Count)
            .Where(i => mine.Any(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: >= 4 } f
                && f[3].EndsWith($":{cluster.Silos[i].GatewayPort.ToString(CultureInfo.InvariantCulture)}", StringComparison.Ordinal)))
            .ToList();
    }

    /// <summary>How long <paramref name="condition"/> took to hold; fails the test, saying <paramref name="failure"/>, when it never did.</summary>
    private static async Task<TimeSpan> WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> failure)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed >= timeout) Assert.Fail(failure());
            await Task.Delay(250);
        }
        return clock.Elapsed;
    }

    [GeneratedRegex(@"exited with code (-?\d+)")]
    private static partial Regex ExitLine();
}
