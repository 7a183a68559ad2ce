using Microsoft.Playwright;
using Orchestrator.Silo.Hosting;
using Orchestrator.TestServers;

namespace Orchestrator.Dashboard.Tests;

/// <summary>Two silos of a Redis cluster (real redis-server, Blob Storage in a real Azurite), each serving the dashboard.</summary>
public sealed class ClusterDashboardTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"dashboard-cluster-{Guid.NewGuid():N}");
    private RedisServer _redis = null!;
    private AzuriteServer _azurite = null!;
    private readonly List<DashboardSilo> _silos = [];

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _azurite = await AzuriteServer.StartAsync();
        var serviceId = $"dashboard-{Guid.NewGuid():N}";
        for (var i = 0; i < 2; i++)
            _silos.Add(await DashboardSilo.StartAsync(new SiloHostOptions
            {
                Cluster = $"redis://{_redis.Endpoint}",
                Storage = _azurite.ConnectionString,
                DataDir = Path.Combine(_root, $"silo-{i}"),
                Slots = 1,
                ServiceId = serviceId,
                SiloName = $"silo-{i}",
            }));
    }

    public async Task DisposeAsync()
    {
        foreach (var silo in _silos) await silo.DisposeAsync();
        await _redis.DisposeAsync();
        await _azurite.DisposeAsync();
        TempFolder.TryDelete(_root);
    }

    [Fact]
    public async Task Either_silo_of_a_2_silo_cluster_serves_the_same_sweep_page()
    {
        var yaml = Sweeps.Ranks("shared").Replace("parallel: 1", "parallel: 2", StringComparison.Ordinal);
        await _silos[0].SubmitAsync(yaml);
        var status = await _silos[1].WaitAsync("shared", s => s.IsTerminal, TimeSpan.FromSeconds(120));
        Assert.Equal(4, status.Succeeded);

        await using var browser = await Browser.StartAsync();
        var seen = new List<(string Ids, string Best)>();
        foreach (var silo in _silos)
        {
            var page = await browser.OpenAsync(silo.Url + "#/sweep/shared");
            await Assertions.Expect(page.Locator("#trials tbody tr")).ToHaveCountAsync(4);
            await Assertions.Expect(page.Locator("#status-state")).ToHaveTextAsync("finished");
            var ids = string.Join(",", (await page.Locator("#trials tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.trial)")).Order());
            seen.Add((ids, await page.Locator("#status-best").TextContentAsync() ?? ""));
            // The sweeps list of each silo names it too.
            await page.GotoAsync(silo.Url + "#/");
            await Assertions.Expect(page.Locator("#sweeps tr[data-sweep=shared]")).ToContainTextAsync("4/4");
        }
        Assert.Equal(seen[0], seen[1]);
        Assert.Contains(status.BestTrial!, seen[0].Best);
    }
}
