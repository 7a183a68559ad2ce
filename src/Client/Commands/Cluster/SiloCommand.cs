using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Orchestrator.Client.Connection;
using Orchestrator.Silo.Hosting;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>
/// `silo`: runs a silo host in the foreground, exactly as the container's entrypoint does (same code, same
/// environment variables); options given here override the environment. `--cluster`, `--storage` and `--data-dir`
/// are the CLI's shared connection options (declared once, on the root command), and so are `--tls-cert`,
/// `--tls-key` and `--tls-ca`, which turn on mutual TLS for a cluster silo (embedded mode stays plaintext on loopback).
/// </summary>
public sealed class SiloCommand : OrchestratorCommand
{
    private static readonly Option<int?> SlotsOption = new("--slots") { Description = "Trials trained at once. Env: ORCHESTRATOR_SLOTS." };
    private static readonly Option<string?> DeviceOption = new("--device") { Description = "cpu or cuda:N. Env: ORCHESTRATOR_DEVICE." };
    private static readonly Option<int?> SiloPortOption = new("--silo-port") { Description = "Env: ORCHESTRATOR_SILO_PORT (default 11111)." };
    private static readonly Option<int?> GatewayPortOption = new("--gateway-port") { Description = "Env: ORCHESTRATOR_GATEWAY_PORT (default 30000)." };
    private static readonly Option<int?> HttpPortOption = new("--http-port") { Description = "Health, metrics and the web dashboard (every interface); 0 = a free port on loopback. Env: ORCHESTRATOR_HTTP_PORT (default 8080)." };
    private static readonly Option<string?> NameOption = new("--name") { Description = "Silo name. Env: POD_NAME." };
    private static readonly Option<string?> AddressOption = new("--address") { Description = "The IP other silos reach this one on; the silo then listens on every interface, which needs TLS (or --insecure). Env: POD_IP (default: loopback only)." };
    private static readonly Option<bool> InsecureOption = new("--insecure") { Description = "Allow listening beyond loopback without TLS. Env: ORCHESTRATOR_INSECURE." };
    private static readonly Option<bool> DashboardOption = new("--dashboard") { Description = "Also serve the Orleans dashboard (grain statistics) at /dashboard. Env: ORCHESTRATOR_DASHBOARD." };
    private static readonly Option<string?> DashboardTokenOption = new("--dashboard-token") { Description = "Bearer token every call of the web dashboard at / needs (reads, downloads, events, pause/resume/cancel); without one it reads for anyone and is read-only. Env: ORCHESTRATOR_DASHBOARD_TOKEN." };

    public SiloCommand() : base("silo", "Run a silo host (the container entrypoint uses the same code); stops gracefully on Ctrl+C / SIGTERM.")
    {
        foreach (var option in new Option[] { SlotsOption, DeviceOption, SiloPortOption, GatewayPortOption, HttpPortOption, NameOption, AddressOption, InsecureOption, DashboardOption, DashboardTokenOption })
            Options.Add(option);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        SiloHostOptions options;
        try
        {
            var env = SiloHostOptions.FromEnvironment();
            options = env with
            {
                Cluster = parseResult.GetValue(ConnectionOptions.Cluster) ?? env.Cluster,
                Storage = parseResult.GetValue(ConnectionOptions.Storage) ?? env.Storage,
                Slots = parseResult.GetValue(SlotsOption) ?? env.Slots,
                Device = parseResult.GetValue(DeviceOption) ?? env.Device,
                DataDir = parseResult.GetValue(ConnectionOptions.DataDir) ?? env.DataDir,
                SiloPort = parseResult.GetValue(SiloPortOption) ?? env.SiloPort,
                GatewayPort = parseResult.GetValue(GatewayPortOption) ?? env.GatewayPort,
                HttpPort = parseResult.GetValue(HttpPortOption) ?? env.HttpPort,
                SiloName = parseResult.GetValue(NameOption) ?? env.SiloName,
                Dashboard = parseResult.GetValue(DashboardOption) || env.Dashboard,
                DashboardToken = parseResult.GetValue(DashboardTokenOption) ?? env.DashboardToken,
                AdvertisedAddress = parseResult.GetValue(AddressOption) ?? env.AdvertisedAddress,
                Insecure = parseResult.GetValue(InsecureOption) || env.Insecure,
                Tls = ConnectionOptions.ResolveTls(parseResult),
            };
            options = options.Validated();
        }
        catch (SiloHostOptionsException e)
        {
            throw new UserInputException(e.Message, ExitCodes.UsageError);
        }
        Microsoft.AspNetCore.Builder.WebApplication app;
        try
        {
            app = await SiloHost.BuildAsync(options, logLevel: Microsoft.Extensions.Logging.LogLevel.Information);
        }
        catch (ClusterAccessException e)
        {
            throw new UserInputException(e.Message, ExitCodes.ClusterUnreachable);
        }
        await app.StartAsync(CancellationToken.None);
        using var stop = cancellationToken.Register(() => app.Lifetime.StopApplication());
        await app.WaitForShutdownAsync(CancellationToken.None);
        return ExitCodes.Success;
    }
}
