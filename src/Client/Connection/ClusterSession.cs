using Orchestrator.Contracts.Hosting;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Client.Commands;
using Orchestrator.Silo.Hosting;
using Orchestrator.Silo.Security;
using Orchestrator.Storage;
using Orleans.Configuration;

namespace Orchestrator.Client.Connection;

/// <summary>
/// A verb's connection to the cluster. Embedded: the first process on a data directory hosts the silo itself
/// (it holds `silo.lock` and publishes its gateway, trainer slots and dashboard URL in `gateway.json`); any other
/// process on the same directory connects to that gateway, so `status` or `leaderboard` work beside a running `run`,
/// and a `run` started beside a `dashboard` trains in the dashboard's process. Cluster: an Orleans client
/// over Redis membership or a known gateway.
/// </summary>
public sealed class ClusterSession : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly FileStream? _lock;
    private readonly string? _gatewayFile;

    private ClusterSession(IHost host, IClusterClient client, IArtifactStore store, bool hostsSilo, FileStream? siloLock, string? gatewayFile,
        EmbeddedGateway? embedded)
    {
        _host = host;
        Client = client;
        Store = store;
        HostsSilo = hostsSilo;
        _lock = siloLock;
        _gatewayFile = gatewayFile;
        Embedded = embedded;
    }

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan RefusalCheckInterval = TimeSpan.FromSeconds(3);

    public IClusterClient Client { get; }
    public IArtifactStore Store { get; }
    /// <summary>True when this process runs the embedded silo (and its trainer slots).</summary>
    public bool HostsSilo { get; }
    public IServiceProvider Services => _host.Services;
    /// <summary>
    /// Embedded mode: what the silo this session uses publishes (this process's own, or the holder's): its trainer
    /// slots, its owner and its dashboard's URL. Null for a cluster.
    /// </summary>
    public EmbeddedGateway? Embedded { get; }

    /// <param name="slots">Trainer slots if this process ends up hosting the embedded silo.</param>
    public static Task<ClusterSession> ConnectAsync(ClusterAddress address, int slots, CancellationToken cancellationToken,
        Action<IServiceCollection>? configureSilo = null) =>
        ConnectAsync(address, new EmbeddedHosting(slots), cancellationToken, configureSilo);

    /// <param name="hosting">What this process offers if it ends up hosting the embedded silo.</param>
    public static async Task<ClusterSession> ConnectAsync(ClusterAddress address, EmbeddedHosting hosting, CancellationToken cancellationToken,
        Action<IServiceCollection>? configureSilo = null)
    {
        try
        {
            return address.Kind switch
            {
                ClusterKind.Embedded => await ConnectEmbeddedAsync(address, hosting, cancellationToken, configureSilo),
                _ => await ConnectClientAsync(address, cancellationToken),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UserInputException($"cannot reach the cluster at {address.Display}: no gateway answered within {ConnectTimeout.TotalSeconds:0} s", ExitCodes.ClusterUnreachable);
        }
        catch (Exception e) when (e is not UserInputException and not OperationCanceledException)
        {
            throw new UserInputException($"cannot reach the cluster at {address.Display}: {RedisConnection.Redacted(e.Message.Split('\n')[0])}", ExitCodes.ClusterUnreachable);
        }
    }

    private static TimeSpan ProgressInterval()
    {
        try { return SiloHostOptions.ProgressIntervalFromEnvironment(); }
        catch (SiloHostOptionsException e) { throw new UserInputException(e.Message, ExitCodes.UsageError); }
    }

    private static async Task<ClusterSession> ConnectEmbeddedAsync(ClusterAddress address, EmbeddedHosting hosting, CancellationToken cancellationToken,
        Action<IServiceCollection>? configureSilo)
    {
        var dataDir = Path.GetFullPath(address.DataDir);
        Directory.CreateDirectory(dataDir);
        var lockPath = Path.Combine(dataDir, "silo.lock");
        var gatewayFile = Path.Combine(dataDir, EmbeddedGateway.FileName);
        FileStream? siloLock = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (siloLock is null)
        {
            try
            {
                siloLock = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                break;
            }
            catch (IOException)
            {
                // Another process hosts this data directory's silo. A verb that trains (run) waits for a holder
                // without trainer slots (status, trials: they exit in seconds; `dashboard` brings slots) rather than
                // attaching to a silo that cannot train; anything else becomes that silo's client.
                var gateway = await EmbeddedGateway.TryReadAsync(gatewayFile, cancellationToken);
                if (gateway is not null && !(hosting.Slots > 0 && gateway.Slots == 0 && DateTime.UtcNow < deadline))
                    return await ConnectClientAsync(address with { Kind = ClusterKind.Gateway, Value = $"127.0.0.1:{gateway.GatewayPort}", Tls = null }, cancellationToken, gateway);
            }
            if (DateTime.UtcNow >= deadline)
                throw new UserInputException($"another process holds {lockPath} but publishes no gateway; is it still starting?", ExitCodes.ClusterUnreachable);
            await Task.Delay(200, cancellationToken);
        }

        var dashboard = hosting.Dashboard;
        if (dashboard.Port != 0 && !FreePort.IsFree(dashboard.Address, dashboard.Port))
        {
            siloLock.Dispose();
            throw DashboardPortInUse(dashboard);
        }
        var options = new SiloHostOptions
        {
            Cluster = SiloHostOptions.Localhost,
            DataDir = dataDir,
            Storage = address.Storage,
            StorageContainer = address.Container,
            Slots = hosting.Slots,
            SiloPort = FreePort.Next(),
            GatewayPort = FreePort.Next(),
            HttpPort = dashboard.Port,
            HttpAddress = dashboard.Address.ToString(),
            DashboardToken = dashboard.Token,
            ServiceId = address.ServiceId,
            ClusterId = address.ClusterId,
            SiloName = $"embedded-{Environment.ProcessId}",
            ProgressInterval = ProgressInterval(),
        };
        var app = SiloHost.Build(options, SiloConsoleLog.OnStandardError(configureSilo));
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            // Taken since the check above (Kestrel binds after the silo has started): stop what did start.
            await StopQuietlyAsync(app);
            siloLock.Dispose();
            throw DashboardPortInUse(dashboard);
        }
        catch
        {
            siloLock.Dispose();
            throw;
        }
        var published = new EmbeddedGateway(options.GatewayPort, Environment.ProcessId, hosting.Slots, ServedUrl(app.Urls), hosting.Owner);
        await published.WriteAsync(gatewayFile, cancellationToken);
        return new ClusterSession(app, app.Services.GetRequiredService<IClusterClient>(), app.Services.GetRequiredService<IArtifactStore>(),
            hostsSilo: true, siloLock, gatewayFile, published);
    }

    private static UserInputException DashboardPortInUse(EmbeddedDashboard dashboard) =>
        new($"{dashboard.PortOption} {dashboard.Port}: {dashboard.Address}:{dashboard.Port} is already in use (choose another port, or 0 for a free one)", ExitCodes.UsageError);

    /// <summary>The URL a browser on this machine opens: an all-interfaces bind is reached on loopback.</summary>
    public static string ServedUrl(IEnumerable<string> urls) =>
        urls.First().Replace("://0.0.0.0:", "://127.0.0.1:", StringComparison.Ordinal).Replace("://[::]:", "://[::1]:", StringComparison.Ordinal).TrimEnd('/') + "/";

    private static async Task StopQuietlyAsync(WebApplication app)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await app.StopAsync(timeout.Token);
        }
        catch (Exception)
        {
            // Nothing ran on it yet; what matters is the one-line error.
        }
        await app.DisposeAsync();
    }

    private static async Task<ClusterSession> ConnectClientAsync(ClusterAddress address, CancellationToken cancellationToken, EmbeddedGateway? embedded = null)
    {
        ClusterCredentials? credentials;
        try
        {
            credentials = address.Tls is { } tls ? ClusterCredentials.Load(tls, CertificateRole.Client) : null;
        }
        catch (CertificateFileException e)
        {
            throw new UserInputException(e.Message, ExitCodes.UsageError);
        }
        var refusals = new TlsRefusals();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => { o.ServiceId = address.ServiceId; o.ClusterId = address.ClusterId; });
            if (address.Kind == ClusterKind.Redis)
            {
                var redis = address.Redis();
                client.UseRedisClustering(o => o.ConfigurationOptions = redis.Configuration());
            }
            else
            {
                client.UseStaticClustering(address.GatewayEndPoint());
            }
            if (credentials is not null) client.UseClusterTls(credentials, refusals);
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
        });
        var host = builder.Build();
        string? refusal = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ConnectTimeout);
            var start = host.StartAsync(timeout.Token);
            // Orleans keeps retrying a gateway that refuses us until the timeout; a connect that is slow gets asked
            // why, so a refused client hears it in seconds, and as a refusal rather than "unreachable". A certificate
            // turned away counts once two probes in a row saw it (a loaded gateway may drop one probe, not two).
            var probeRefused = false;
            while (await Task.WhenAny(start, Task.Delay(RefusalCheckInterval, cancellationToken)) != start)
            {
                (refusal, probeRefused) = await ConnectionRefusal.ExplainAsync(host.Services, address, credentials, refusals, probeRefusalIsAnswer: probeRefused, cancellationToken);
                if (refusal is null) continue;
                timeout.Cancel();
                break;
            }
            await start;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            refusal ??= (await ConnectionRefusal.ExplainAsync(host.Services, address, credentials, refusals, probeRefusalIsAnswer: true, cancellationToken)).Refusal;
            host.Dispose();
            if (refusal is not null) throw new UserInputException(refusal, ExitCodes.ClusterUnreachable);
            throw;
        }
        var store = address.Storage is { } s
            ? ArtifactStoreFactory.Create(s, address.Container)
            : ArtifactStoreFactory.Create(Path.Combine(Path.GetFullPath(address.DataDir), "artifacts"));
        return new ClusterSession(host, host.Services.GetRequiredService<IClusterClient>(), store, hostsSilo: false, null, null, embedded);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(130));
            await _host.StopAsync(timeout.Token);
        }
        catch (Exception) when (!HostsSilo)
        {
            // A client whose gateway died (a watch that reconnected elsewhere) may fail to say goodbye: nothing is
            // lost by that, and the verb's outcome must not depend on it.
        }
        finally
        {
            if (_host is IAsyncDisposable d) await d.DisposeAsync(); else _host.Dispose();
            if (_gatewayFile is not null) File.Delete(_gatewayFile);
            _lock?.Dispose();
        }
    }
}
