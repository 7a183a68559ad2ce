using Orchestrator.Contracts.Hosting;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
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
/// (it holds `silo.lock` and publishes its gateway in `gateway.json`); any other process on the same directory
/// connects to that gateway, so `status` or `leaderboard` work beside a running `run`. Cluster: an Orleans client
/// over Redis membership or a known gateway.
/// </summary>
public sealed class ClusterSession : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly FileStream? _lock;
    private readonly string? _gatewayFile;

    private ClusterSession(IHost host, IClusterClient client, IArtifactStore store, bool hostsSilo, FileStream? siloLock, string? gatewayFile)
    {
        _host = host;
        Client = client;
        Store = store;
        HostsSilo = hostsSilo;
        _lock = siloLock;
        _gatewayFile = gatewayFile;
    }

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan RefusalCheckInterval = TimeSpan.FromSeconds(3);

    public IClusterClient Client { get; }
    public IArtifactStore Store { get; }
    /// <summary>True when this process runs the embedded silo (and its trainer slots).</summary>
    public bool HostsSilo { get; }
    public IServiceProvider Services => _host.Services;

    /// <param name="slots">Trainer slots if this process ends up hosting the embedded silo.</param>
    public static async Task<ClusterSession> ConnectAsync(ClusterAddress address, int slots, CancellationToken cancellationToken,
        Action<IServiceCollection>? configureSilo = null)
    {
        try
        {
            return address.Kind switch
            {
                ClusterKind.Embedded => await ConnectEmbeddedAsync(address, slots, cancellationToken, configureSilo),
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

    private static async Task<ClusterSession> ConnectEmbeddedAsync(ClusterAddress address, int slots, CancellationToken cancellationToken,
        Action<IServiceCollection>? configureSilo)
    {
        var dataDir = Path.GetFullPath(address.DataDir);
        Directory.CreateDirectory(dataDir);
        var lockPath = Path.Combine(dataDir, "silo.lock");
        var gatewayFile = Path.Combine(dataDir, "gateway.json");
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
                // Another process hosts this data directory's silo. A verb that trains (run) waits for a holder that
                // only reads (status, trials: they exit in seconds) rather than attaching to a silo that cannot train;
                // anything else becomes that silo's client.
                var gateway = await TryReadGatewayAsync(gatewayFile, cancellationToken);
                if (gateway is not null && !(slots > 0 && gateway.Slots == 0 && DateTime.UtcNow < deadline))
                    return await ConnectClientAsync(address with { Kind = ClusterKind.Gateway, Value = $"127.0.0.1:{gateway.GatewayPort}", Tls = null }, cancellationToken);
            }
            if (DateTime.UtcNow >= deadline)
                throw new UserInputException($"another process holds {lockPath} but publishes no gateway; is it still starting?", ExitCodes.ClusterUnreachable);
            await Task.Delay(200, cancellationToken);
        }

        var options = new SiloHostOptions
        {
            Cluster = SiloHostOptions.Localhost,
            DataDir = dataDir,
            Storage = address.Storage,
            StorageContainer = address.Container,
            Slots = slots,
            SiloPort = FreePort.Next(),
            GatewayPort = FreePort.Next(),
            HttpPort = 0,
            ServiceId = address.ServiceId,
            ClusterId = address.ClusterId,
            SiloName = $"embedded-{Environment.ProcessId}",
        };
        var app = SiloHost.Build(options, SiloConsoleLog.OnStandardError(configureSilo));
        await app.StartAsync(cancellationToken);
        await File.WriteAllTextAsync(gatewayFile, JsonSerializer.Serialize(new GatewayInfo(options.GatewayPort, Environment.ProcessId, slots)), cancellationToken);
        return new ClusterSession(app, app.Services.GetRequiredService<IClusterClient>(), app.Services.GetRequiredService<IArtifactStore>(),
            hostsSilo: true, siloLock, gatewayFile);
    }

    /// <summary>
    /// The gateway of the process holding the lock, or null while there is none to use: the holder writes gateway.json
    /// only once its silo has started, and a holder killed with -9 leaves a stale one behind (the caller then tries the
    /// lock again). Found by tests/Reliability.Tests: `trials` polled while `run` was starting.
    /// </summary>
    private static async Task<GatewayInfo?> TryReadGatewayAsync(string gatewayFile, CancellationToken cancellationToken)
    {
        try
        {
            return JsonSerializer.Deserialize<GatewayInfo>(await File.ReadAllTextAsync(gatewayFile, cancellationToken)) is { } gateway && IsAlive(gateway.ProcessId)
                ? gateway
                : null;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }

        static bool IsAlive(int pid)
        {
            try { using var process = System.Diagnostics.Process.GetProcessById(pid); return !process.HasExited; }
            catch (ArgumentException) { return false; }
        }
    }

    private static async Task<ClusterSession> ConnectClientAsync(ClusterAddress address, CancellationToken cancellationToken)
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
            // why, so a refused client hears it in seconds, and as a refusal rather than "unreachable".
            while (await Task.WhenAny(start, Task.Delay(RefusalCheckInterval, cancellationToken)) != start)
            {
                refusal = await ConnectionRefusal.ExplainAsync(host.Services, address, credentials, refusals, connectFailed: false, cancellationToken);
                if (refusal is null) continue;
                timeout.Cancel();
                break;
            }
            await start;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            refusal ??= await ConnectionRefusal.ExplainAsync(host.Services, address, credentials, refusals, connectFailed: true, cancellationToken);
            host.Dispose();
            if (refusal is not null) throw new UserInputException(refusal, ExitCodes.ClusterUnreachable);
            throw;
        }
        var store = address.Storage is { } s
            ? ArtifactStoreFactory.Create(s, address.Container)
            : ArtifactStoreFactory.Create(Path.Combine(Path.GetFullPath(address.DataDir), "artifacts"));
        return new ClusterSession(host, host.Services.GetRequiredService<IClusterClient>(), store, hostsSilo: false, null, null);
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

    private sealed record GatewayInfo(int GatewayPort, int ProcessId, int Slots = 0);
}
