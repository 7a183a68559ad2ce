using System.CommandLine;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Client.Connection;
using Orchestrator.Contracts.Hosting;
using Orchestrator.Dashboard;
using Orchestrator.Storage;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>
/// `dashboard`: serves the web dashboard for the embedded data directory (or `--cluster`) on 127.0.0.1 and prints
/// its URL. First on a data directory it hosts the embedded silo, with trainer slots, and that silo serves the
/// page: a later `run` there becomes its client and its sweep trains in this process. Beside a running `run` it is
/// that silo's client and serves the page itself. Silos serve the same pages on their HTTP port.
/// </summary>
public sealed class DashboardCommand : ClusterCommand
{
    public const int DefaultPort = 8090;
    private static readonly Option<int> PortOption = new("--port") { Description = $"HTTP port (default {DefaultPort}; 0 picks a free one).", DefaultValueFactory = _ => DefaultPort };
    private static readonly Option<string> AddressOption = new("--address") { Description = "Address to listen on (default 127.0.0.1, this machine only).", DefaultValueFactory = _ => "127.0.0.1" };
    private static readonly Option<int> SlotsOption = new("--slots")
    {
        Description = "Trials trained at once when this process hosts the data directory's silo (default 1; a later `run` there trains here).",
        DefaultValueFactory = _ => 1,
    };

    /// <summary>`--dashboard-token`, shared with `run` (whose embedded silo serves the same page).</summary>
    public static readonly Option<string?> TokenOption = new("--dashboard-token") { Description = $"Bearer token every call of the page needs (reads, downloads, events, pause/resume/cancel); without one it reads for anyone and is read-only. Env: {EnvironmentVariables.DashboardToken}." };

    public DashboardCommand() : base("dashboard", "Serve the live web dashboard (sweeps, trials, curves, workers) and print its URL; Ctrl+C stops it.")
    {
        Options.Add(PortOption);
        Options.Add(AddressOption);
        Options.Add(SlotsOption);
        Options.Add(TokenOption);
    }

    /// <summary>`--dashboard-token`, else its environment variable, else null (read-only).</summary>
    public static string? ReadToken(ParseResult parseResult) =>
        parseResult.GetValue(TokenOption) ?? (Environment.GetEnvironmentVariable(EnvironmentVariables.DashboardToken) is { Length: > 0 } t ? t : null);

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var port = parseResult.GetValue(PortOption);
        if (port is < 0 or > 65535) throw new UserInputException($"--port {port} is not valid: use 0 (any free port) to 65535", ExitCodes.UsageError);
        var address = parseResult.GetValue(AddressOption)!;
        if (!IPAddress.TryParse(address, out var ip))
            throw new UserInputException($"--address '{address}' is not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)", ExitCodes.UsageError);
        var slots = parseResult.GetValue(SlotsOption);
        if (slots is < 1 or > 64) throw new UserInputException($"--slots {slots} is not valid: use 1 to 64", ExitCodes.UsageError);
        var token = ReadToken(parseResult);

        var hosting = new EmbeddedHosting(slots, "dashboard") { Dashboard = new EmbeddedDashboard(port, token, "--port") { Address = ip } };
        await using var session = await ClusterSession.ConnectAsync(ConnectionOptions.Resolve(parseResult), hosting, cancellationToken);
        // Hosting the silo, this process's silo serves the page; as a client it serves the page itself.
        await using var app = session.HostsSilo ? null : await ServeAsync(session, ip, port, token, cancellationToken);
        var url = app is null ? session.Embedded!.DashboardUrl! : ClusterSession.ServedUrl(app.Urls);
        Console.Out.WriteLine($"dashboard: {url}");
        if (session.HostsSilo)
            Console.Out.WriteLine($"hosting {Path.GetFullPath(ConnectionOptions.Resolve(parseResult).DataDir)} with {slots} trainer slot{(slots == 1 ? "" : "s")}: a `run` there trains in this process");
        else if (session.Embedded is { } holder)
            Console.Out.WriteLine($"{holder.Describe()} hosts this data directory; its own dashboard: {holder.DashboardUrl}");
        Console.Out.WriteLine(token is null ? "read-only (give --dashboard-token to allow pause/resume/cancel); Ctrl+C stops it" : "every call needs the token (the page asks for it once); Ctrl+C stops it");
        await Console.Out.FlushAsync(cancellationToken);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
        if (app is not null) await app.StopAsync(CancellationToken.None);
        return ExitCodes.Success;
    }

    /// <summary>The page on this process's own web host, for a session that is a client of someone else's silo.</summary>
    private static async Task<WebApplication> ServeAsync(ClusterSession session, IPAddress ip, int port, string? token, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        // Failures reach the user as one line (a port in use below; the API answers 503 for an unreachable cluster).
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://{(ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString())}:{port}");
        builder.Services.AddSingleton(session.Client);
        builder.Services.AddSingleton<IArtifactStore>(session.Store);
        builder.Services.AddDashboard(new DashboardOptions { Token = token });
        var app = builder.Build();
        app.MapDashboard();
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new UserInputException($"cannot listen on {ip}:{port}: {e.Message.Split('\n')[0]} (choose another --port)", ExitCodes.UsageError);
        }
        return app;
    }
}
