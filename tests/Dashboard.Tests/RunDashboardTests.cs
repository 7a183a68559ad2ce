using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Orchestrator.TestServers;

namespace Orchestrator.Dashboard.Tests;

/// <summary>
/// One process is enough: `run` serves the dashboard of its embedded silo and prints its URL, and a `dashboard`
/// started first on a data directory hosts the silo with trainer slots, so a later `run` trains in it. The built
/// CLI in its own processes, as a user runs it; the page in Debian's Chromium.
/// </summary>
public sealed class RunDashboardTests : IAsyncLifetime
{
    private static readonly Regex PrintedUrl = new(@"dashboard: (http://127\.0\.0\.1:\d+/)(#/sweep/[a-z0-9-]+)?");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"run-dashboard-{Guid.NewGuid():N}");

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        TempFolder.TryDelete(_dir);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Run_then_the_printed_url_opens_the_page_of_the_running_sweep_which_follows_it_to_cancelled()
    {
        var dataDir = Path.Combine(_dir, "data");
        var file = Path.Combine(_dir, "watched.yaml");
        await File.WriteAllTextAsync(file, Sweeps.Long("watched"));
        var log = Path.Combine(_dir, "run.log");
        await using var run = OrchestratorCli.Start(["run", file, "--data-dir", dataDir, "--report", Path.Combine(_dir, "report")], log, _dir);
        var url = await PrintedUrlAsync(run, log);
        Assert.EndsWith("#/sweep/watched", url);
        Assert.Contains("read-only", File.ReadAllLines(log).Single(l => l.Contains("dashboard: ")));

        await using var browser = await Browser.StartAsync();
        var page = await browser.OpenAsync(url);
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("watched");
        await Assertions.Expect(page.Locator("#trials tr.state-running td.step")).ToHaveTextAsync(new Regex(@"^[1-9]\d*/1000000$"), new() { Timeout = 120_000 });
        await Assertions.Expect(page.Locator("#status-state")).ToHaveTextAsync("running");

        // The page is read-only; the sweep is cancelled from a second CLI process (a client of run's silo), and the
        // open page follows it without a reload while `run` ends.
        var cancel = await OrchestratorCli.RunAsync(["cancel", "watched", "--data-dir", dataDir], _dir);
        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        await Assertions.Expect(page.Locator("#status-state")).ToHaveTextAsync("cancelled", new() { Timeout = 60_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.__notReloaded === true"));
        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(90)), $"run did not end after the cancel (an open page must not hold it for the host's 120 s shutdown timeout)\n{run.LogTail()}");

        // The page outlives its server: it says it is offline and keeps the last state it heard.
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("● offline");
        await Assertions.Expect(page.Locator("#status-state")).ToHaveTextAsync("cancelled");
    }

    [Fact]
    public async Task A_run_beside_a_dashboard_started_first_on_an_empty_data_directory_trains_in_the_dashboards_process_and_prints_its_url()
    {
        var dataDir = Path.Combine(_dir, "data");
        var dashboardLog = Path.Combine(_dir, "dashboard.log");
        await using var dashboard = OrchestratorCli.Start(["dashboard", "--data-dir", dataDir, "--port", "0"], dashboardLog, _dir);
        var dashboardUrl = await PrintedUrlAsync(dashboard, dashboardLog);
        Assert.Contains("with 1 trainer slot", await File.ReadAllTextAsync(dashboardLog));

        var sweep = new MnistTestSweep("attached") { Rank = "{ values: [1, 2] }", Parallel = 2 };
        var run = await OrchestratorCli.RunAsync(["run", sweep.WriteTo(_dir), "--data-dir", dataDir, "--report", Path.Combine(_dir, "report")], _dir,
            TimeSpan.FromSeconds(300));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"`dashboard` (pid {dashboard.Id}) hosts {Path.GetFullPath(dataDir)} with 1 trainer slot: attached trains in that process, 1 at a time", run.Stdout);
        Assert.Contains($"dashboard: {dashboardUrl}#/sweep/attached", run.Stdout);
        var trials = CliJson.Parse<List<TrialRow>>((await OrchestratorCli.RunAsync(["trials", "attached", "--data-dir", dataDir, "--json"], _dir)).Stdout);
        Assert.Equal(2, trials.Count);
        Assert.All(trials, t => Assert.True(t.Is("succeeded"), t.ToString()));
        // Each trained in the dashboard's process: its silo is the one named after that process.
        using var http = new HttpClient();
        foreach (var trial in trials)
        {
            using var detail = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"{dashboardUrl}api/sweeps/attached/trials/{trial.TrialId}"));
            Assert.Equal([$"embedded-{dashboard.Id}"], detail.RootElement.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("silo").GetString()));
        }
        Assert.False(dashboard.HasExited, dashboard.LogTail());
    }

    [Fact]
    public async Task A_run_whose_dashboard_host_stops_mid_sweep_takes_the_silo_over_finishes_the_sweep_and_prints_its_own_url()
    {
        var dataDir = Path.Combine(_dir, "data");
        var dashboardLog = Path.Combine(_dir, "dashboard.log");
        var dashboard = OrchestratorCli.Start(["dashboard", "--data-dir", dataDir, "--port", "0"], dashboardLog, _dir);
        var dashboardUrl = await PrintedUrlAsync(dashboard, dashboardLog);
        // Trials long enough (3,000 steps, progress every second) that the probe below always sees one mid-training: with
        // 300 steps both trials once finished between two probes, and the run exited before the dashboard was stopped.
        var sweep = new MnistTestSweep("handover") { Rank = "{ values: [1, 2] }", MaxSteps = 3000, EvalEvery = 500 };
        var runLog = Path.Combine(_dir, "run.log");
        await using var run = OrchestratorCli.Start(["run", sweep.WriteTo(_dir), "--data-dir", dataDir, "--report", Path.Combine(_dir, "report")], runLog, _dir);

        // Once a trial trains in the dashboard's process, that process is stopped (Ctrl+C).
        using var http = new HttpClient();
        await run.WaitUntilReadyAsync(async ct =>
        {
            using var page = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"{dashboardUrl}api/sweeps/handover/trials", ct));
            return page.RootElement.GetProperty("rows").EnumerateArray().Any(r =>
                r.GetProperty("worker").GetString()?.StartsWith($"embedded-{dashboard.Id}/", StringComparison.Ordinal) == true && r.GetProperty("step").GetInt64() > 0);
        }, TimeSpan.FromSeconds(180), CancellationToken.None);
        await dashboard.StopAsync(TimeSpan.FromSeconds(150));
        await dashboard.DisposeAsync();

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(300)), run.LogTail());
        await run.StopAsync(TimeSpan.Zero); // records the exit code in the log
        var printed = await File.ReadAllTextAsync(runLog);
        Assert.Contains($"dashboard: {dashboardUrl}#/sweep/handover\n", printed.ReplaceLineEndings("\n"));
        Assert.Matches(@"dashboard: http://127\.0\.0\.1:\d+/#/sweep/handover \(this machine only", printed);
        Assert.Contains("exited with code 0", printed);
        var trials = CliJson.Parse<List<TrialRow>>((await OrchestratorCli.RunAsync(["trials", "handover", "--data-dir", dataDir, "--json"], _dir)).Stdout);
        Assert.Equal(2, trials.Count);
        Assert.All(trials, t => Assert.True(t.Is("succeeded"), t.ToString()));
    }

    [Fact]
    public async Task Run_with_a_dashboard_port_in_use_exits_with_one_line_naming_the_port()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var file = new MnistTestSweep("port-taken").WriteTo(_dir);

        var run = await OrchestratorCli.RunAsync(["run", file, "--data-dir", Path.Combine(_dir, "data"), "--dashboard-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], _dir);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"error: --dashboard-port {port}: 127.0.0.1:{port} is already in use (choose another port, or 0 for a free one)", run.Stderr.Trim());
        Assert.DoesNotContain("   at ", run.Stdout + run.Stderr);
    }

    /// <summary>The URL (with its #/sweep/NAME, if any) the process printed on its `dashboard:` line, once it has.</summary>
    private static async Task<string> PrintedUrlAsync(ChildProcess process, string log)
    {
        string? url = null;
        await process.WaitUntilReadyAsync(_ =>
        {
            var match = PrintedUrl.Match(File.Exists(log) ? File.ReadAllText(log) : "");
            url = match.Success ? match.Groups[1].Value + match.Groups[2].Value : null;
            return Task.FromResult(url is not null);
        }, TimeSpan.FromSeconds(120), CancellationToken.None);
        return url!;
    }
}
