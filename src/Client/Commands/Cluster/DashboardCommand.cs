using System.CommandLine;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts.Hosting;
using Orchestrator.Dashboard;
using Orchestrator.Storage;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>
/// `dashboard`: serves the web dashboard for the embedded data directory (or `--cluster`) on 127.0.0.1 and prints
/// its URL. Beside a running `run` it becomes that silo's client; alone it hosts the embedded silo with no trainer
/// slots. Silos serve the same pages on their HTTP port.
/// </summary>
public sealed class DashboardCommand : ClusterCommand
{
    public const int DefaultPort = 8090;
    private static readonly Option<int> PortOption = new("--port") { Description = $"HTTP port (default {DefaultPort}; 0 picks a free one).", DefaultValueFactory = _ => DefaultPort };
    private static readonly Option<string> AddressOption = new("--address") { Description = "Address to listen on (default 127.0.0.1, this machine only).", DefaultValueFactory = _ => "127.0.0.1" };
    private static readonly Option<string?> TokenOption = new("--dashboard-token") { Description = $"Bearer token every call of the page needs (reads, downloads, events, pause/resume/cancel); without one it reads for anyone and is read-only. Env: {EnvironmentVariables.DashboardToken}." };

    public DashboardCommand() : base("dashboard", "Serve the live web dashboard (sweeps, trials, curves, workers) and print its URL; Ctrl+C stops it.")
    {
        Options.Add(PortOption);
        Options.Add(AddressOption);
        Options.Add(TokenOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var port = parseResult.GetValue(PortOption);
        if (port is < 0 or > 65535) throw new UserInputException($"--port {port} is not valid: use 0 (any free port) to 65535", ExitCodes.UsageError);
        var address = parseResult.GetValue(AddressOption)!;
        if (!IPAddress.TryParse(address, out var ip))
            throw new UserInputException($"--address '{address}' is not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)", ExitCodes.UsageError);
        var token = parseResult.GetValue(TokenOption) ?? (Environment.GetEnvironmentVariable(EnvironmentVariables.DashboardToken) is { Length: > 0 } t ? t : null);

        await using var session = await ConnectAsync(parseResult, cancellationToken);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        // Failures reach the user as one line (a port in use below; the API answers 503 for an unreachable cluster).
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://{(ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString())}:{port}");
        builder.Services.AddSingleton(session.Client);
        builder.Services.AddSingleton<IArtifactStore>(session.Store);
        builder.Services.AddDashboard(new DashboardOptions { Token = token });
        await using var app = builder.Build();
        app.MapDashboard();
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            throw new UserInputException($"cannot listen on {address}:{port}: {e.Message.Split('\n')[0]} (choose another --port)", ExitCodes.UsageError);
        }
        var url = app.Urls.First().Replace("://0.0.0.0:", "://127.0.0.1:", StringComparison.Ordinal).TrimEnd('/') + "/";
        Console.Out.WriteLine($"dashboard: {url}");
        Console.Out.WriteLine(token is null ? "read-only (give --dashboard-token to allow pause/resume/cancel); Ctrl+C stops it" : "every call needs the token (the page asks for it once); Ctrl+C stops it");
        await Console.Out.FlushAsync(cancellationToken);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
        await app.StopAsync(CancellationToken.None);
        return ExitCodes.Success;
    }
}
