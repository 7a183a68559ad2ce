using System.Text.Json;
using Microsoft.Playwright;
using Orchestrator.Silo.Hosting;
using Orchestrator.Storage;
using Orchestrator.TestServers;

namespace Orchestrator.Dashboard.Tests;

/// <summary>A finished trial's learning curve is stored with its artifacts (metrics.jsonl) and served from there after the silo restarts.</summary>
public sealed class PersistentCurvesTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"dashboard-curves-{Guid.NewGuid():N}");
    private Browser _browser = null!;

    public async Task InitializeAsync() => _browser = await Browser.StartAsync();

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        TempFolder.TryDelete(_dataDir);
    }

    [Fact]
    public async Task A_finished_trials_curve_has_all_its_points_after_a_silo_restart()
    {
        var options = new SiloHostOptions { DataDir = _dataDir, Slots = 1, ServiceId = "dashboard-curves" };
        string trial;
        long[] steps;
        await using (var silo = await DashboardSilo.StartAsync(options))
        {
            await silo.SubmitAsync(Sweeps.Ranks("curves"));
            await silo.WaitAsync("curves", s => s.IsTerminal, TimeSpan.FromSeconds(120));
            trial = (await silo.Sweep("curves").GetTrialsAsync()).First(t => t.State == TrialState.Succeeded).TrialId;
            steps = await StepsAsync(silo, trial);
            Assert.True(steps.Length >= 4, $"before the restart the curve has {steps.Length} points"); // evaluations at steps 10..40
            var stored = await TrialMetricsFile.ReadAsync(silo.Store, "curves", trial, default);
            Assert.Equal(steps, stored!.Select(p => p.Step));
        }

        await using var restarted = await DashboardSilo.StartAsync(options with { Slots = 0 });
        Assert.Equal(steps, await StepsAsync(restarted, trial));

        var page = await _browser.OpenAsync(restarted.Url + $"#/trial/curves/{trial}");
        await Assertions.Expect(page.Locator("#history-table tbody tr")).ToHaveCountAsync(steps.Length);
    }

    private static async Task<long[]> StepsAsync(DashboardSilo silo, string trial)
    {
        using var http = new HttpClient();
        var json = await http.GetStringAsync(silo.Url + $"api/sweeps/curves/curves?ids={trial}");
        return JsonDocument.Parse(json).RootElement.GetProperty(trial).EnumerateArray().Select(p => p.GetProperty("step").GetInt64()).ToArray();
    }
}
