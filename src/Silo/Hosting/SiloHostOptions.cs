using System.Globalization;
using System.Net;
using Orchestrator.Contracts.Hosting;
using Orchestrator.Silo.Security;

namespace Orchestrator.Silo.Hosting;

/// <summary>
/// Everything that decides how a silo runs. The one place that tells embedded from cluster: <see cref="IsCluster"/>.
/// Filled from ORCHESTRATOR_* environment variables (the container) and overridden by command-line options.
/// </summary>
public sealed record SiloHostOptions
{
    public const string Localhost = "localhost";

    /// <summary>`localhost` (embedded) or `redis://HOST:PORT`.</summary>
    public string Cluster { get; init; } = Localhost;
    /// <summary>Artifacts: a directory, or an Azure Storage connection string. Default: `{DataDir}/artifacts`.</summary>
    public string? Storage { get; init; }
    public string StorageContainer { get; init; } = "artifacts";
    /// <summary>Embedded state, the local work area and the cache of base models.</summary>
    public string DataDir { get; init; } = ".orchestrator";
    /// <summary>Concurrent trials this silo trains. 0 makes a silo that only hosts grains (and a client's embedded view).</summary>
    public int Slots { get; init; } = 1;
    /// <summary>`cpu` or `cuda:N`.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>`cpu` or `gpu`: published as silo metadata `hardware.accelerator` for operators; no placement reads it (slots pull work).</summary>
    public string Accelerator { get; init; } = "cpu";
    /// <summary>Memory one slot offers trials (bytes); 0 = not limited. Trials are packed by their estimate.</summary>
    public long MemoryPerSlot { get; init; }
    /// <summary>The Orleans dashboard (grain statistics) at /dashboard; the sweep dashboard at / is always served with HTTP.</summary>
    public bool Dashboard { get; init; }
    /// <summary>Bearer token every call of the sweep dashboard's API requires; null: reads are open and pause/resume/cancel refused.</summary>
    public string? DashboardToken { get; init; }
    public int SiloPort { get; init; } = SiloEndpoints.SiloPort;
    public int GatewayPort { get; init; } = SiloEndpoints.GatewayPort;
    /// <summary>Health, metrics and dashboard; 0: a free port (the CLI's in-process silo, which publishes the one it got).</summary>
    public int HttpPort { get; init; } = SiloEndpoints.HttpPort;
    /// <summary>The IP address HTTP listens on; null: every interface for a fixed <see cref="HttpPort"/>, loopback for port 0.</summary>
    public string? HttpAddress { get; init; }
    public string ServiceId { get; init; } = "lora-orchestrator";
    public string ClusterId { get; init; } = "default";
    /// <summary>Silo name (Kubernetes: the pod name).</summary>
    public string? SiloName { get; init; }
    /// <summary>The address other silos reach this one on (Kubernetes: the pod IP). Default: loopback.</summary>
    public string? AdvertisedAddress { get; init; }
    /// <summary>Mutual TLS on silo-to-silo and gateway connections (cluster mode); null: plaintext.</summary>
    public TlsFiles? Tls { get; init; }
    /// <summary>Lets a silo listen on a non-loopback address without TLS.</summary>
    public bool Insecure { get; init; }
    /// <summary>Redis' password, when not in <see cref="Cluster"/>.</summary>
    public string? RedisPassword { get; init; }
    /// <summary>
    /// How often a running trial reports its step to the sweep (evaluations always report at once), and how often the
    /// dashboard re-reads a sweep it shows: the freshness of `trials` and the page against grain calls.
    /// </summary>
    public TimeSpan ProgressInterval { get; init; } = DefaultProgressInterval;
    public static readonly TimeSpan DefaultProgressInterval = TimeSpan.FromSeconds(1);
    /// <summary>How long shutdown waits for running trials to checkpoint and hand back.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(120);

    public bool IsCluster => !string.Equals(Cluster, Localhost, StringComparison.OrdinalIgnoreCase);

    public string ResolvedStorage => Storage ?? Path.Combine(DataDir, "artifacts");

    /// <summary>What Kestrel binds: <see cref="HttpAddress"/> (or its default) and <see cref="HttpPort"/>.</summary>
    public string HttpUrl
    {
        get
        {
            var address = IPAddress.Parse(HttpAddress ?? (HttpPort > 0 ? "0.0.0.0" : "127.0.0.1"));
            var host = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
            return string.Create(CultureInfo.InvariantCulture, $"http://{host}:{HttpPort}");
        }
    }

    /// <summary>The Redis server of cluster mode, with its password and TLS settings.</summary>
    public RedisConnection Redis => IsCluster
        ? RedisConnection.Parse(Cluster, RedisPassword, Tls?.Authority)
        : throw new InvalidOperationException("embedded mode has no Redis");

    /// <summary>
    /// True when the silo listens on every interface (it advertises an address other than loopback): then it must
    /// speak TLS, or be told <see cref="Insecure"/>. Embedded mode always listens on loopback only.
    /// </summary>
    public bool ListensBeyondLoopback => IsCluster && AdvertisedAddress is { } address
        && !(IPAddress.TryParse(address, out var ip) && IPAddress.IsLoopback(ip));

    public static SiloHostOptions FromEnvironment(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        var o = new SiloHostOptions();
        string? Get(string name) => read(name) is { Length: > 0 } v ? v : null;
        int Int(string name, int fallback) => Get(name) is { } v
            ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n
                : throw new SiloHostOptionsException($"{name}='{v}' is not an integer")
            : fallback;
        return o with
        {
            Cluster = Get(EnvironmentVariables.Cluster) ?? o.Cluster,
            Storage = Get(EnvironmentVariables.Storage) ?? o.Storage,
            StorageContainer = Get(EnvironmentVariables.StorageContainer) ?? o.StorageContainer,
            DataDir = Get(EnvironmentVariables.DataDir) ?? o.DataDir,
            Slots = Int(EnvironmentVariables.Slots, o.Slots),
            Device = Get(EnvironmentVariables.Device) ?? o.Device,
            Accelerator = Get(EnvironmentVariables.Accelerator) ?? o.Accelerator,
            Dashboard = Get(EnvironmentVariables.Dashboard) is { } d && (d == "1" || d.Equals("true", StringComparison.OrdinalIgnoreCase)),
            DashboardToken = Get(EnvironmentVariables.DashboardToken) ?? o.DashboardToken,
            SiloPort = Int(EnvironmentVariables.SiloPort, o.SiloPort),
            GatewayPort = Int(EnvironmentVariables.GatewayPort, o.GatewayPort),
            HttpPort = Int(EnvironmentVariables.HttpPort, o.HttpPort),
            ServiceId = Get(EnvironmentVariables.ServiceId) ?? o.ServiceId,
            ClusterId = Get(EnvironmentVariables.ClusterId) ?? o.ClusterId,
            SiloName = Get(EnvironmentVariables.PodName) ?? o.SiloName,
            AdvertisedAddress = Get(EnvironmentVariables.PodIp) ?? o.AdvertisedAddress,
            Tls = Tls(),
            Insecure = Get(EnvironmentVariables.Insecure) is { } insecure && (insecure == "1" || insecure.Equals("true", StringComparison.OrdinalIgnoreCase)),
            RedisPassword = Get(EnvironmentVariables.RedisPassword),
            ProgressInterval = ProgressIntervalFromEnvironment(read),
        };

        TlsFiles? Tls()
        {
            try { return TlsFiles.FromEnvironment(read); }
            catch (CertificateFileException e) { throw new SiloHostOptionsException(e.Message); }
        }
    }

    /// <summary><see cref="EnvironmentVariables.ProgressIntervalSeconds"/>, or the default when unset.</summary>
    /// <exception cref="SiloHostOptionsException">The value is not a number of seconds from 0.05 to 60.</exception>
    public static TimeSpan ProgressIntervalFromEnvironment(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        if (read(EnvironmentVariables.ProgressIntervalSeconds) is not { Length: > 0 } text) return DefaultProgressInterval;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 0.05 and <= 60
            ? TimeSpan.FromSeconds(seconds)
            : throw new SiloHostOptionsException($"{EnvironmentVariables.ProgressIntervalSeconds}='{text}' is not valid: use seconds from 0.05 to 60");
    }

    /// <summary>Checks values a user typed; throws <see cref="SiloHostOptionsException"/> naming the value and what is allowed.</summary>
    public SiloHostOptions Validated()
    {
        if (IsCluster && RedisConnection.Problem(Cluster) is { } redisProblem)
            throw new SiloHostOptionsException(redisProblem);
        if (AdvertisedAddress is { } advertised && !IPAddress.TryParse(advertised, out _))
            throw new SiloHostOptionsException($"--address '{advertised}' is not an IP address");
        if (ListensBeyondLoopback && Tls is null && !Insecure)
            throw new SiloHostOptionsException(
                $"refusing to listen on {AdvertisedAddress} without TLS: anyone who reaches it could join the cluster or submit sweeps. " +
                $"Pass {TlsFiles.Usage}, or --insecure ({EnvironmentVariables.Insecure}=true) to accept plaintext");
        if (IsCluster && Tls is { } tls)
        {
            try { ClusterCredentials.Load(tls, CertificateRole.Silo).Dispose(); }
            catch (CertificateFileException e) { throw new SiloHostOptionsException(e.Message); }
        }
        if (Slots is < 0 or > 64) throw new SiloHostOptionsException($"--slots {Slots} is not valid: use 0 to 64");
        if (!System.Text.RegularExpressions.Regex.IsMatch(Device, @"^(cpu|cuda(:\d+)?)$"))
            throw new SiloHostOptionsException($"--device '{Device}' is not valid: use cpu or cuda:N");
        if (Accelerator is not ("cpu" or "gpu")) throw new SiloHostOptionsException($"accelerator '{Accelerator}' is not valid: use cpu or gpu");
        foreach (var (name, port) in new[] { ("silo port", SiloPort), ("gateway port", GatewayPort) })
            if (port is < 1 or > 65535) throw new SiloHostOptionsException($"{name} {port} is not valid: use 1 to 65535");
        if (HttpPort is < 0 or > 65535) throw new SiloHostOptionsException($"HTTP port {HttpPort} is not valid: use 0 (a free one) to 65535");
        if (HttpAddress is { } httpAddress && !IPAddress.TryParse(httpAddress, out _))
            throw new SiloHostOptionsException($"HTTP address '{httpAddress}' is not an IP address");
        if (Orchestrator.Storage.ArtifactStoreFactory.Problem(ResolvedStorage) is { } storageProblem) throw new SiloHostOptionsException(storageProblem);
        return this;
    }
}

/// <summary>A bad silo option: shown as one line, never a stack trace.</summary>
public sealed class SiloHostOptionsException(string message) : Exception(message);
