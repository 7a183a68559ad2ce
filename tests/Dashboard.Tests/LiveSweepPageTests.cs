using System.Net.Http.Headers;
using Microsoft.Playwright;
using Orchestrator.Silo.Hosting;
using Orchestrator.TestServers;

namespace Orchestrator.Dashboard.Tests;

/// <summary>One embedded silo with a trainer slot, real MNIST trials, Debian's Chromium looking at its dashboard.</summary>
public sealed class LiveSweepPageTests : IAsyncLifetime
{
    private const string Token = "test-token-1234";
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"dashboard-tests-{Guid.NewGuid():N}");
    private DashboardSilo _silo = null!;
    private Browser _browser = null!;

    public async Task InitializeAsync()
    {
        _silo = await DashboardSilo.StartAsync(new SiloHostOptions { DataDir = _dataDir, Slots = 1, DashboardToken = Token, ServiceId = "dashboard-tests" });
        _browser = await Browser.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        await _silo.DisposeAsync();
        TempFolder.TryDelete(_dataDir);
    }

    [Fact]
    public async Task A_running_trials_step_advances_on_the_open_sweep_page_without_a_reload()
    {
        await _silo.SubmitAsync(Sweeps.Long("live"));
        await _silo.WaitAsync("live", s => s.Running == 1, TimeSpan.FromSeconds(60));
        var page = await _browser.OpenAsync(_silo.Url + "#/sweep/live", Token);

        var running = page.Locator("#trials tr.state-running td.step").First;
        await Assertions.Expect(running).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^[1-9]\d*/1000000$"), new() { Timeout = 60_000 });
        var first = await running.TextContentAsync();
        await Assertions.Expect(running).Not.ToHaveTextAsync(first!, new() { Timeout = 30_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.__notReloaded === true"));
        await Assertions.Expect(page.Locator("#live.on")).ToBeVisibleAsync();

        // The running trial's learning curve is drawn (ticked by default as one of the first rows).
        await Assertions.Expect(page.Locator("#curves canvas")).ToHaveCountAsync(1);

        // With the token, cancel from the API; the page shows it without a reload.
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        var response = await http.PostAsync(_silo.Url + "api/sweeps/live/cancel", null);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        await Assertions.Expect(page.Locator("#status-state")).ToHaveTextAsync("cancelled", new() { Timeout = 15_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.__notReloaded === true"));
    }

    [Fact]
    public async Task The_trial_table_sorts_by_a_column_and_filters_with_the_leaderboard_where_language_then_a_trial_shows_its_curve()
    {
        await _silo.SubmitAsync(Sweeps.Ranks("ranks"));
        await _silo.WaitAsync("ranks", s => s.IsTerminal, TimeSpan.FromSeconds(120));
        var page = await _browser.OpenAsync(_silo.Url + "#/sweep/ranks", Token);
        await Assertions.Expect(page.Locator("#trials tbody tr")).ToHaveCountAsync(4);

        await page.Locator("th[data-column=rank]").ClickAsync();
        await Assertions.Expect(page.Locator("#trials tbody tr td[data-param=rank]")).ToHaveTextAsync(["1", "2", "4", "8"]);
        await page.Locator("th[data-column=rank]").ClickAsync();
        await Assertions.Expect(page.Locator("#trials tbody tr td[data-param=rank]")).ToHaveTextAsync(["8", "4", "2", "1"]);

        await page.Locator("#filter").FillAsync("rank>=4 and state=succeeded");
        await page.Locator("#apply-filter").ClickAsync();
        await Assertions.Expect(page.Locator("#trials tbody tr td[data-param=rank]")).ToHaveTextAsync(["8", "4"]);
        await Assertions.Expect(page.Locator("#page-info")).ToHaveTextAsync("1–2 of 2 (filtered from 4)");

        await page.Locator("#filter").FillAsync("rnk>=4");
        await page.Locator("#apply-filter").ClickAsync();
        await Assertions.Expect(page.Locator("#filter-problem")).ToContainTextAsync("unknown field 'rnk'");

        // Open the best trial: its curve, configuration, attempt and files with sha256.
        await page.Locator("#filter").FillAsync("");
        await page.Locator("#apply-filter").ClickAsync();
        await page.Locator("#trials tbody tr").First.Locator("a").ClickAsync();
        await Assertions.Expect(page.Locator("#history canvas")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#trial-state")).ToHaveTextAsync("succeeded");
        Assert.True(await page.Locator("#history-table tbody tr").CountAsync() >= 2); // evaluations at steps 10..40 and the result
        await Assertions.Expect(page.Locator("#config")).ToContainTextAsync("target_modules");
        await Assertions.Expect(page.Locator("#attempts tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#attempts tbody tr td").Nth(6)).ToHaveTextAsync("succeeded");
        await Assertions.Expect(page.Locator("#attempts tbody tr td").Nth(3)).ToHaveTextAsync("–"); // trained alone: no pack
        var resultRow = page.Locator("#files tbody tr", new() { HasText = "result.json" });
        await Assertions.Expect(resultRow.Locator("code")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9a-f]{64}$"));
        var href = await resultRow.Locator("a").GetAttributeAsync("href");
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        var json = await http.GetStringAsync(new Uri(new Uri(_silo.Url), href));
        Assert.Contains("\"metrics\"", json);
        Assert.True(await page.EvaluateAsync<bool>("() => window.__notReloaded === true"));
    }
}
