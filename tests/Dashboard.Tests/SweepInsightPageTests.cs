using Microsoft.Playwright;
using Orchestrator.Silo.Hosting;
using Orchestrator.TestServers;

namespace Orchestrator.Dashboard.Tests;

/// <summary>One finished sweep in which alpha is tied to rank, read as someone deciding what to run next.</summary>
public sealed class SweepInsightPageTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"dashboard-insight-{Guid.NewGuid():N}");
    private DashboardSilo _silo = null!;
    private Browser _browser = null!;

    public async Task InitializeAsync()
    {
        _silo = await DashboardSilo.StartAsync(new SiloHostOptions { DataDir = _dataDir, Slots = 1, ServiceId = "dashboard-insight" });
        _browser = await Browser.StartAsync();
        await _silo.SubmitAsync(Sweeps.TiedAlpha("tied"));
        var status = await _silo.WaitAsync("tied", s => s.IsTerminal, TimeSpan.FromSeconds(180));
        Assert.Equal(8, status.Succeeded);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        await _silo.DisposeAsync();
        TempFolder.TryDelete(_dataDir);
    }

    [Fact]
    public async Task Importance_names_alpha_tied_to_rank_as_one_group_instead_of_two_bars()
    {
        var page = await _browser.OpenAsync(_silo.Url + "#/sweep/tied");

        await Assertions.Expect(page.Locator("#importance-note .tied")).ToContainTextAsync("rank ≡ alpha");
        var bars = await page.EvaluateAsync<string[]>("() => echarts.getInstanceByDom(document.getElementById('importance')).getOption().yAxis[0].data");
        Assert.Equal(["lr", "rank ≡ alpha"], bars.Order(StringComparer.Ordinal));
    }
}
