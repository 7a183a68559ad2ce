using System.Text.Json;
using Microsoft.Playwright;
using Orchestrator.Silo.Hosting;
using Orchestrator.TestServers;

namespace Orchestrator.Dashboard.Tests;

/// <summary>One finished two-objective sweep in which alpha is tied to rank, trained once for the class's tests.</summary>
public sealed class InsightSweep : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"dashboard-insight-{Guid.NewGuid():N}");

    public DashboardSilo Silo { get; private set; } = null!;
    public Browser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Silo = await DashboardSilo.StartAsync(new SiloHostOptions { DataDir = _dataDir, Slots = 1, ServiceId = "dashboard-insight" });
        Browser = await Browser.StartAsync();
        await Silo.SubmitAsync(Sweeps.TiedAlpha("tied"));
        var status = await Silo.WaitAsync("tied", s => s.IsTerminal, TimeSpan.FromSeconds(180));
        Assert.Equal(10, status.Succeeded); // 8 LoRA trials, full fine-tuning at each lr
        // A second study of the same model and dataset, for the page that ranks sweeps together.
        await Silo.SubmitAsync(Sweeps.Ranks("other-day"));
        Assert.Equal(4, (await Silo.WaitAsync("other-day", s => s.IsTerminal, TimeSpan.FromSeconds(120))).Succeeded);
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        await Silo.DisposeAsync();
        TempFolder.TryDelete(_dataDir);
    }
}

/// <summary>The finished <see cref="InsightSweep"/> read as someone deciding what to run next.</summary>
public sealed class SweepInsightPageTests(InsightSweep sweep) : IClassFixture<InsightSweep>
{
    private DashboardSilo Silo => sweep.Silo;
    private Browser Browser => sweep.Browser;

    [Fact]
    public async Task Importance_names_alpha_tied_to_rank_as_one_group_instead_of_two_bars()
    {
        var page = await Browser.OpenAsync(Silo.Url + "#/sweep/tied");

        await Assertions.Expect(page.Locator("#importance-note .tied")).ToContainTextAsync("rank ≡ alpha");
        var bars = await page.EvaluateAsync<string[]>("() => echarts.getInstanceByDom(document.getElementById('importance')).getOption().yAxis[0].data");
        Assert.Equal(["lr", "rank ≡ alpha"], bars.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_pareto_view_fades_dominated_trials_marks_full_fine_tuning_and_says_which_way_each_axis_is_better()
    {
        var page = await Browser.OpenAsync(Silo.Url + "#/sweep/tied");

        await Assertions.Expect(page.Locator("#pareto-note")).ToContainTextAsync("of 10 finished trials are on the front");
        var option = await ParetoOptionAsync(page);
        Assert.Equal("test_accuracy ↑ higher is better", option.GetProperty("yAxis")[0].GetProperty("name").GetString());
        Assert.Equal("trainable_params ↓ lower is better", option.GetProperty("xAxis")[0].GetProperty("name").GetString());
        var series = option.GetProperty("series").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("data").GetArrayLength());

        // The front is the leaderboard's rule: on it exactly when no other trial is as good on both objectives and better on one.
        using var http = new HttpClient();
        var view = JsonDocument.Parse(await http.GetStringAsync(Silo.Url + "api/sweeps/tied/pareto")).RootElement;
        var points = view.GetProperty("points").EnumerateArray()
            .Select(p => (Kind: p.GetProperty("kind").GetString(), X: p.GetProperty("x").GetDouble(), Y: p.GetProperty("y").GetDouble(), Front: p.GetProperty("onFront").GetBoolean())).ToList();
        Assert.Equal(10, points.Count);
        foreach (var p in points)
            Assert.Equal(p.Front, !points.Any(q => q.Y >= p.Y && q.X <= p.X && (q.Y > p.Y || q.X < p.X)));
        Assert.Equal(points.Count(p => p.Front), series["Pareto front"]);
        Assert.Equal(points.Count(p => !p.Front && p.Kind == "lora"), series["dominated"]);
        Assert.Equal(2, series["full fine-tuning"]);

        // Another pair: train_seconds on x.
        await page.Locator("#pareto-x").SelectOptionAsync("train_seconds");
        await Assertions.Expect(page.Locator("#pareto-note")).ToContainTextAsync("test_accuracy and train_seconds");
        option = await ParetoOptionAsync(page);
        Assert.Equal("train_seconds ↓ lower is better", option.GetProperty("xAxis")[0].GetProperty("name").GetString());
    }

    private static async Task<JsonElement> ParetoOptionAsync(IPage page) =>
        JsonDocument.Parse(await page.EvaluateAsync<string>(
            "() => JSON.stringify(echarts.getInstanceByDom(document.getElementById('pareto')).getOption())")).RootElement;

    [Fact]
    public async Task Compare_shows_ticked_trials_side_by_side_with_differences_marked_and_curves_overlaid_and_its_link_reproduces_it()
    {
        var trials = (await Silo.Sweep("tied").GetTrialsAsync()).Where(t => t.Kind == TrialKind.Lora).ToList();
        var rank1 = trials.Where(t => t.Parameters["rank"].AsNumber == 1).OrderBy(t => t.Parameters["lr"].AsNumber).ToList();
        var page = await Browser.OpenAsync(Silo.Url + "#/sweep/tied");
        await Assertions.Expect(page.Locator("#trials tbody tr")).ToHaveCountAsync(10);
        await Assertions.Expect(page.Locator("#compare")).ToHaveTextAsync("compare 5 ticked"); // the first rows, ticked on opening
        var ticked = page.Locator("#trials tbody input[type=checkbox]:checked");
        while (await ticked.CountAsync() > 0) await ticked.First.UncheckAsync();
        await Assertions.Expect(page.Locator("#compare")).ToHaveTextAsync("compare 0 ticked");
        foreach (var t in rank1) await page.Locator($"#trials tr[data-trial='{t.TrialId}'] input[type=checkbox]").CheckAsync();
        await Assertions.Expect(page.Locator("#compare")).ToHaveTextAsync("compare 2 ticked");
        await page.Locator("#compare").ClickAsync();

        // Two rank-1 trials of different lr: that row is marked, rank and alpha are not.
        await Assertions.Expect(page.Locator("#compare-config tr[data-key=lr].differs")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#compare-config tr[data-key=rank]:not(.differs)")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#compare-config tr[data-key=alpha]:not(.differs)")).ToHaveCountAsync(1);
        var differing = await page.Locator("#compare-config tr.differs").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.key)");
        await Assertions.Expect(page.Locator("#compare-summary")).ToContainTextAsync("differs in " + string.Join(", ", differing));
        await Assertions.Expect(page.Locator("#compare-metrics tr[data-key=test_accuracy] td")).ToHaveCountAsync(3);
        var series = await page.EvaluateAsync<int>("() => echarts.getInstanceByDom(document.getElementById('compare-curves')).getOption().series.filter(s => s.data.length > 1).length");
        Assert.Equal(2, series);

        // The URL is the selection: opened afresh it shows the same comparison.
        var again = await Browser.OpenAsync(page.Url);
        await Assertions.Expect(again.Locator("#compare-ids")).ToHaveTextAsync(string.Join(", ", rank1.Select(t => t.TrialId)));
        await Assertions.Expect(again.Locator("#compare-config tr[data-key=lr].differs")).ToHaveCountAsync(1);

        // Full fine-tuning never had a rank, alpha or target modules: beside a LoRA trial those cells are empty (–), not
        // the defaults its config carried; the options both kinds use are shown for both.
        var full = (await Silo.Sweep("tied").GetTrialsAsync()).First(t => t.Kind == TrialKind.Full);
        var mixed = await Browser.OpenAsync(Silo.Url + $"#/compare/tied/{rank1[0].TrialId},{full.TrialId}");
        foreach (var key in new[] { "rank", "alpha", "target_modules" })
            await Assertions.Expect(mixed.Locator($"#compare-config tr[data-key={key}] td")).ToHaveTextAsync([key, rank1[0].Config[key].ToString(), "–"]);
        await Assertions.Expect(mixed.Locator("#compare-config tr[data-key=adapter] td")).ToHaveTextAsync(["adapter", "lora", "full"]);
        await Assertions.Expect(mixed.Locator("#compare-config tr[data-key=batch_size] td").Nth(2)).Not.ToHaveTextAsync("–");
    }

    [Fact]
    public async Task The_leaderboard_page_ranks_the_trials_of_every_sweep_of_a_model_and_dataset_together()
    {
        var page = await Browser.OpenAsync(Silo.Url + "#/leaderboard");

        await Assertions.Expect(page.Locator("#board-sweeps")).ToHaveTextAsync("sweeps: other-day, tied");
        await Assertions.Expect(page.Locator("#global tbody tr")).ToHaveCountAsync(14);
        var sweeps = await page.Locator("#global tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.sweep)");
        Assert.Equal(["other-day", "tied"], sweeps.Distinct().Order(StringComparer.Ordinal));
        var scores = await page.Locator("#global tbody td.score").AllTextContentsAsync();
        var values = scores.Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(values.OrderDescending(), values); // test_accuracy: best first
    }
}
