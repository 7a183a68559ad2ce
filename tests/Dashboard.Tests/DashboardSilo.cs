using Orchestrator.Grains.Sweeps;
using Orchestrator.Contracts.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Silo.Hosting;
using Orchestrator.TestServers;

namespace Orchestrator.Dashboard.Tests;

/// <summary>A real silo host (the one `./orchestrator silo` runs) on free loopback ports, serving the dashboard.</summary>
public sealed class DashboardSilo : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DashboardSilo(WebApplication app, int httpPort) { _app = app; HttpPort = httpPort; }

    public int HttpPort { get; }
    public string Url => $"http://127.0.0.1:{HttpPort}/";
    public IClusterClient Client => _app.Services.GetRequiredService<IClusterClient>();
    public Orchestrator.Storage.IArtifactStore Store => _app.Services.GetRequiredService<Orchestrator.Storage.IArtifactStore>();

    public static async Task<DashboardSilo> StartAsync(SiloHostOptions options, Action<IServiceCollection>? configureServices = null)
    {
        var httpPort = FreePort.Next();
        var app = SiloHost.Build(options with { HttpPort = httpPort, SiloPort = FreePort.Next(), GatewayPort = FreePort.Next(), ShutdownTimeout = TimeSpan.FromSeconds(10) },
            configureServices);
        await app.StartAsync();
        return new DashboardSilo(app, httpPort);
    }

    public ISweepGrain Sweep(string name) => Client.GetGrain<ISweepGrain>(name);

    public async Task<SweepStatus> SubmitAsync(string yaml)
    {
        var name = yaml.Split('\n')[0]["name: ".Length..].Trim();
        var result = await Sweep(name).SubmitAsync(yaml, $"{name}.yaml");
        Assert.True(result.Accepted, result.Message);
        return await Sweep(name).GetStatusAsync();
    }

    public async Task<SweepStatus> WaitAsync(string name, Func<SweepStatus, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var status = await Sweep(name).GetStatusAsync();
            if (condition(status)) return status;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"sweep {name}: {status}");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
