using System.Net.Http.Headers;
using System.Text.Json;
using Orchestrator.Silo.Hosting;
using Orchestrator.TestServers;

namespace Orchestrator.Dashboard.Tests;

/// <summary>
/// One embedded silo started with a dashboard token (and the Orleans statistics dashboard at /dashboard), and one finished sweep (4 real MNIST trials) with files to
/// download: shared by the tests of <see cref="DashboardTokenTests"/>.
/// </summary>
public sealed class GuardedDashboard : IAsyncLifetime
{
    public const string Token = "read-token-5b1e";
    public const string SweepName = "guarded-reads";
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"dashboard-guarded-{Guid.NewGuid():N}");

    public DashboardSilo Silo { get; private set; } = null!;

    /// <summary>A succeeded trial of <see cref="SweepName"/>.</summary>
    public string TrialId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Silo = await DashboardSilo.StartAsync(new SiloHostOptions { DataDir = _dataDir, Slots = 1, DashboardToken = Token, ServiceId = "dashboard-guarded", Dashboard = true });
        await Silo.SubmitAsync(Sweeps.Ranks(SweepName));
        await Silo.WaitAsync(SweepName, s => s.IsTerminal, TimeSpan.FromSeconds(180));
        using var http = WithToken();
        using var rows = JsonDocument.Parse(await http.GetStringAsync(Silo.Url + $"api/sweeps/{SweepName}/trials"));
        TrialId = rows.RootElement.GetProperty("rows").EnumerateArray()
            .First(r => r.GetProperty("state").GetString() == "succeeded").GetProperty("id").GetString()!;
    }

    public HttpClient WithToken()
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return http;
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        TempFolder.TryDelete(_dataDir);
    }
}
