using System.Net;
using System.Text.RegularExpressions;
using Orchestrator.TestServers;

namespace Orchestrator.Dashboard.Tests;

/// <summary>`./orchestrator dashboard` as a user runs it: the built CLI in its own process.</summary>
public sealed class DashboardVerbTests
{
    [Fact]
    public async Task The_dashboard_verb_serves_the_embedded_data_directory_on_loopback_and_prints_its_url()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), $"dashboard-verb-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataDir);
        var log = Path.Combine(dataDir, "dashboard.log");
        await using var verb = OrchestratorCli.Start(["dashboard", "--data-dir", dataDir, "--port", "0"], log, dataDir);
        try
        {
            string? url = null;
            await verb.WaitUntilReadyAsync(_ =>
            {
                url = Regex.Match(File.Exists(log) ? File.ReadAllText(log) : "", @"dashboard: (http://127\.0\.0\.1:\d+/)").Groups[1].Value is { Length: > 0 } u ? u : null;
                return Task.FromResult(url is not null);
            }, TimeSpan.FromSeconds(60), CancellationToken.None);

            using var http = new HttpClient();
            Assert.Equal("[]", await http.GetStringAsync(url + "api/sweeps"));
            var index = await http.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, index.StatusCode);
            Assert.Contains("script-src 'self'", index.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(url + "static/lib/echarts.min.js")).StatusCode);
            // Read-only without a token: 403 names the option that enables it.
            var pause = await http.PostAsync(url + "api/sweeps/anything/pause", null);
            Assert.Equal(HttpStatusCode.Forbidden, pause.StatusCode);
            Assert.Contains("--dashboard-token", await pause.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(url + "api/sweeps/nothing-here")).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(url + "api/sweeps/Bad_Name")).StatusCode);
        }
        finally
        {
            await verb.StopAsync(TimeSpan.FromSeconds(20));
            TempFolder.TryDelete(dataDir);
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    public async Task The_dashboard_verb_refuses_trainer_slots_outside_1_to_64_naming_the_value(string slots)
    {
        var result = await OrchestratorCli.RunAsync(["dashboard", "--data-dir", Path.Combine(Path.GetTempPath(), $"dashboard-slots-{Guid.NewGuid():N}"), "--slots", slots]);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: --slots {slots} is not valid: use 1 to 64", result.Stderr.Trim());
    }
}
