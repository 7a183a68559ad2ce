using System.Net;
using Microsoft.Playwright;

namespace Orchestrator.Dashboard.Tests;

/// <summary>
/// A dashboard given a token guards its reads too: the JSON API, file downloads and the event stream answer 401
/// without the token (in the Authorization header; a query parameter does not count) and 200 with it. The page asks
/// for the token once per tab and sends it on every call.
/// </summary>
public sealed class DashboardTokenTests(GuardedDashboard dashboard) : IClassFixture<GuardedDashboard>
{
    private string Url => dashboard.Silo.Url;

    private IEnumerable<string> GuardedPaths =>
    [
        "api/sweeps",
        "api/settings",
        "api/workers",
        $"api/sweeps/{GuardedDashboard.SweepName}",
        $"api/sweeps/{GuardedDashboard.SweepName}/trials",
        $"api/sweeps/{GuardedDashboard.SweepName}/analysis",
        $"api/sweeps/{GuardedDashboard.SweepName}/trials/{dashboard.TrialId}",
        $"api/sweeps/{GuardedDashboard.SweepName}/trials/{dashboard.TrialId}/files/result.json",
        $"api/sweeps/{GuardedDashboard.SweepName}/events",
    ];

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-token")]
    [InlineData("Basic cmVhZC10b2tlbi01YjFl")]
    public async Task Without_the_token_every_read_the_file_download_and_the_event_stream_are_401(string? authorization)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        foreach (var path in GuardedPaths.Append($"api/sweeps/{GuardedDashboard.SweepName}/events?access_token={GuardedDashboard.Token}"))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Url + path);
            if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{path}: {(int)response.StatusCode}");
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
            var body = await response.Content.ReadAsStringAsync();
            Assert.Contains("needs its token", body);
            Assert.DoesNotContain("test_accuracy", body);
        }
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("Bearer wrong-token", HttpStatusCode.Unauthorized)]
    [InlineData("Basic " + "YW55Ondyb25nLXRva2Vu", HttpStatusCode.Unauthorized)] // any:wrong-token
    [InlineData("Basic " + "cmVhZC10b2tlbi01YjFl", HttpStatusCode.Unauthorized)] // the token without a user name and colon
    [InlineData("Basic " + "YW55OnJlYWQtdG9rZW4tNWIxZQ==", HttpStatusCode.OK)] // any:read-token-5b1e, what a browser sends
    [InlineData("Bearer " + GuardedDashboard.Token, HttpStatusCode.OK)]
    public async Task The_Orleans_statistics_dashboard_needs_the_token_as_a_bearer_or_as_Basics_password(string? authorization, HttpStatusCode expected)
    {
        // Redirects followed by hand, each with the header: .NET drops Authorization on a redirect, a browser re-sends Basic.
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
        var url = new Uri(Url + "dashboard");
        HttpResponseMessage response;
        for (var hops = 0; ; hops++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
            response = await http.SendAsync(request);
            if ((int)response.StatusCode is < 300 or >= 400 || hops == 5) break;
            url = new Uri(url, response.Headers.Location!);
            response.Dispose();
        }
        using var _ = response;

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Unauthorized)
            Assert.StartsWith("Basic realm=", response.Headers.WwwAuthenticate.ToString()); // the browser asks for the password
        else
            Assert.Contains("<html", (await response.Content.ReadAsStringAsync()).ToLowerInvariant());
    }

    [Fact]
    public async Task With_the_token_the_reads_the_file_download_and_the_event_stream_are_200()
    {
        using var http = dashboard.WithToken();
        foreach (var path in GuardedPaths)
        {
            using var response = await http.GetAsync(Url + path, HttpCompletionOption.ResponseHeadersRead);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}");
            if (path.EndsWith("/events", StringComparison.Ordinal))
                Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            else if (path.EndsWith("result.json", StringComparison.Ordinal))
                Assert.Contains("\"metrics\"", await response.Content.ReadAsStringAsync());
        }
        // The page and its scripts hold no data: they load without a token, so the page can ask for one.
        using var anonymous = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(Url)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(Url + "static/app.js")).StatusCode);
    }

    [Fact]
    public async Task The_page_asks_for_the_token_once_per_tab_then_shows_the_sweep_live_and_downloads_a_file_with_it()
    {
        await using var browser = await Browser.StartAsync();
        var page = await browser.OpenAsync(Url + $"#/sweep/{GuardedDashboard.SweepName}");

        await Assertions.Expect(page.Locator("#token-form")).ToBeVisibleAsync();
        await page.Locator("#token").FillAsync("not-the-token");
        await page.Locator("#token-submit").ClickAsync();
        await Assertions.Expect(page.Locator("#token-prompt")).ToContainTextAsync("refused");

        await page.Locator("#token").FillAsync(GuardedDashboard.Token);
        await page.Locator("#token-submit").ClickAsync();
        await Assertions.Expect(page.Locator("#trials tbody tr")).ToHaveCountAsync(4);
        await Assertions.Expect(page.Locator("#status-state")).ToHaveTextAsync("finished");
        await Assertions.Expect(page.Locator("#live.on")).ToBeVisibleAsync(); // the event stream opened with the token
        Assert.Equal(GuardedDashboard.Token, await page.EvaluateAsync<string>("() => sessionStorage.getItem('dashboard-token')"));

        // Asked once: other pages of the tab read with the kept token.
        await page.Locator("nav a[href='#/workers']").ClickAsync();
        await Assertions.Expect(page.Locator("#workers")).ToBeVisibleAsync();
        await page.GotoAsync(Url + $"#/trial/{GuardedDashboard.SweepName}/{dashboard.TrialId}");
        await Assertions.Expect(page.Locator("#trial-state")).ToHaveTextAsync("succeeded");
        Assert.Equal(0, await page.Locator("#token-form").CountAsync());

        var link = page.Locator("#files tbody tr", new() { HasText = "result.json" }).Locator("a");
        var download = await page.RunAndWaitForDownloadAsync(() => link.ClickAsync());
        Assert.Equal("result.json", download.SuggestedFilename);
        var saved = await download.PathAsync();
        Assert.Contains("\"metrics\"", await File.ReadAllTextAsync(saved));
        Assert.True(await page.EvaluateAsync<bool>("() => window.__notReloaded === true"));
    }

    [Fact]
    public async Task The_trial_table_api_sends_parameters_typed_as_the_CLI_json_does()
    {
        using var http = dashboard.WithToken();
        using var rows = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(Url + $"api/sweeps/{GuardedDashboard.SweepName}/trials"));

        var parameters = rows.RootElement.GetProperty("rows")[0].GetProperty("parameters");
        Assert.Equal(System.Text.Json.JsonValueKind.Number, parameters.GetProperty("rank").ValueKind);
    }

    [Fact]
    public async Task The_parallel_coordinates_put_a_numeric_parameter_on_a_value_axis_ordered_by_value()
    {
        await using var browser = await Browser.StartAsync();
        var page = await browser.OpenAsync(Url + $"#/sweep/{GuardedDashboard.SweepName}", GuardedDashboard.Token);
        await Assertions.Expect(page.Locator("#trials tbody tr")).ToHaveCountAsync(4);

        var axis = await page.WaitForFunctionAsync("""
            () => {
              const chart = window.echarts?.getInstanceByDom(document.getElementById('parallel'));
              const axes = chart?.getOption()?.parallelAxis;
              const rank = axes?.find(a => a.name === 'rank');
              return rank ? rank.type : null;
            }
            """);
        // rank 1, 2, 4, 8 spans less than two decades: a linear value axis, in numeric order (not a category axis in
        // order of appearance); a learning rate over several decades gets a log axis.
        Assert.Equal("value", await axis.JsonValueAsync<string>());
    }
}
