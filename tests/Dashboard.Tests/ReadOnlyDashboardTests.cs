using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Silo.Hosting;
using Orchestrator.TestServers;

namespace Orchestrator.Dashboard.Tests;

/// <summary>A silo whose dashboard has no token and listens on every interface: it reads freely, refuses every mutation, and says so at startup.</summary>
public sealed class ReadOnlyDashboardTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"dashboard-open-{Guid.NewGuid():N}");
    private readonly CapturedLog _log = new();
    private DashboardSilo _silo = null!;

    public async Task InitializeAsync() =>
        _silo = await DashboardSilo.StartAsync(new SiloHostOptions { DataDir = _dataDir, Slots = 0, ServiceId = "dashboard-open" },
            services => services.AddSingleton<ILoggerProvider>(_log));

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        TempFolder.TryDelete(_dataDir);
    }

    [Fact]
    public async Task Without_a_token_on_every_interface_the_dashboard_warns_at_startup_reads_without_a_token_and_refuses_to_pause()
    {
        var warning = Assert.Single(_log.Warnings, w => w.Contains("has no token", StringComparison.Ordinal));
        Assert.Contains("0.0.0.0", warning);
        Assert.Contains("--dashboard-token", warning);
        Assert.Contains("refused", warning);

        await _silo.SubmitAsync(Sweeps.Ranks("open"));
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(_silo.Url + "api/sweeps/open")).StatusCode);
        var pause = await http.PostAsync(_silo.Url + "api/sweeps/open/pause", null);
        Assert.Equal(HttpStatusCode.Forbidden, pause.StatusCode);
        Assert.Contains("read-only", await pause.Content.ReadAsStringAsync());
        Assert.Equal(SweepState.Running, (await _silo.Sweep("open").GetStatusAsync()).State);
    }
}
