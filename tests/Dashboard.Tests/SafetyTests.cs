using System.Net;
using System.Net.Http.Headers;
using Microsoft.Playwright;
using Orchestrator.Silo.Hosting;
using Orchestrator.TestServers;

namespace Orchestrator.Dashboard.Tests;

/// <summary>
/// A silo without trainer slots: trials stay queued unless the test leases them itself as a worker would, so what
/// the page shows is exactly what the test wrote through the real sweep grain.
/// </summary>
public sealed class SafetyTests : IAsyncLifetime
{
    private const string Token = "s3cret-token";
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"dashboard-safety-{Guid.NewGuid():N}");
    private DashboardSilo _silo = null!;

    public async Task InitializeAsync() =>
        _silo = await DashboardSilo.StartAsync(new SiloHostOptions { DataDir = _dataDir, Slots = 0, DashboardToken = Token, ServiceId = "dashboard-safety" });

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        TempFolder.TryDelete(_dataDir);
    }

    [Fact]
    public async Task A_trial_error_containing_a_script_tag_renders_as_text_and_runs_nothing()
    {
        const string error = "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">";
        await _silo.SubmitAsync(Sweeps.Ranks("markup"));
        var sweep = _silo.Sweep("markup");
        var lease = (await sweep.LeaseAsync(new WorkerSlot("test-silo/0", "test-silo", "cpu", 0), 1)).Single();
        await sweep.FailTrialAsync(new TrialFailure(lease.TrialId, lease.Attempt, error, Retryable: false));

        await using var browser = await Browser.StartAsync();
        var page = await browser.OpenAsync(_silo.Url + "#/sweep/markup", Token);
        var cell = page.Locator($"#trials tr[data-trial='{lease.TrialId}'] td.error");
        await Assertions.Expect(cell).ToHaveTextAsync(error);
        await page.Locator($"#trials tr[data-trial='{lease.TrialId}'] a").ClickAsync();
        await Assertions.Expect(page.Locator("#trial-error")).ToHaveTextAsync(error);
        await Assertions.Expect(page.Locator("#attempts tbody tr td.error")).ToHaveTextAsync(error);
        Assert.Equal(0, await page.Locator("#app script, #app img").CountAsync());
        Assert.Null(await page.EvaluateAsync<object?>("() => window.pwned ?? null"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-token")]
    [InlineData("Basic czNjcmV0LXRva2Vu")]
    public async Task Pausing_without_the_token_is_401_and_the_sweep_keeps_running(string? authorization)
    {
        await _silo.SubmitAsync(Sweeps.Ranks("guarded"));
        using var http = new HttpClient();
        foreach (var command in new[] { "pause", "cancel" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _silo.Url + $"api/sweeps/guarded/{command}");
            if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
            var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        Assert.Equal(SweepState.Running, (await _silo.Sweep("guarded").GetStatusAsync()).State);

        // The right token works: the refusal above was the token's doing.
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync(_silo.Url + "api/sweeps/guarded/pause", null)).StatusCode);
        Assert.Equal(SweepState.Paused, (await _silo.Sweep("guarded").GetStatusAsync()).State);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync(_silo.Url + "api/sweeps/guarded/resume", null)).StatusCode);
    }
}
