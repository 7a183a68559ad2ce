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
        await WaitForAsync(async () => (await GatewaysOfAsync(watch.Id, cluster)).Contains(0), TimeSpan.FromSeconds(30));
        Assert.Contains(0, await GatewaysOfAsync(watch.Id, cluster));
        var dropped = Stopwatch.StartNew();
        await cluster.KillSiloAsync(0);
        output.WriteLine($"watch connected through {cluster.Silos[0].Name}'s gateway {gateway}: killed -9");
        await Task.Delay(TimeSpan.FromSeconds(2));
        await cluster.StartSiloAsync(0);
        var siloBack = dropped.Elapsed;

        var reconnected = await WaitForAsync(async () => (await GatewaysOfAsync(watch.Id, cluster)).Contains(0) || watch.HasExited, TimeSpan.FromSeconds(90));
        var deadline = Stopwatch.StartNew();
        while (!watch.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(180)) await Task.Delay(500);
        Assert.True(watch.HasExited, $"watch still running 180 s after the drop\n{ChildProcess.ReadLogTail(log)}\n{cluster.LogTails()}");
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

    private static async Task<TimeSpan> WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition() && clock.Elapsed < timeout) await Task.Delay(250);
        return clock.Elapsed;
    }

    [GeneratedRegex(@"exited with code (-?\d+)")]
    private static partial Regex ExitLine();
}
