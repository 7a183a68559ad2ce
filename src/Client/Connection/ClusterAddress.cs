using System.Net;
using System.Text.RegularExpressions;
using Orchestrator.Client.Commands;
using Orchestrator.Silo.Hosting;
using Orchestrator.Silo.Security;

namespace Orchestrator.Client.Connection;

public enum ClusterKind { Embedded, Redis, Gateway }

/// <summary>A parsed `--cluster` value, the storage that goes with it, and how to authenticate to it.</summary>
public sealed partial record ClusterAddress(ClusterKind Kind, string Value, string DataDir, string? Storage, string Container, string ServiceId, string ClusterId)
{
    /// <summary>Mutual TLS to a cluster's gateways (never to the embedded silo, which is plaintext on loopback).</summary>
    public TlsFiles? Tls { get; init; }

    /// <summary>Redis' password when not in the `--cluster` value.</summary>
    public string? RedisPassword { get; init; }

    /// <summary>The address for messages: a Redis password in it is masked.</summary>
    public string Display => RedisConnection.Redacted(Value);

    /// <summary>The Redis of a <see cref="ClusterKind.Redis"/> address.</summary>
    public RedisConnection Redis() => RedisConnection.Parse(Value, RedisPassword, Tls?.Authority);

    public static ClusterAddress Parse(string cluster, string dataDir, string? storage, string container, string serviceId, string clusterId)
    {
        if (cluster.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            return new(ClusterKind.Embedded, cluster, dataDir, storage, container, serviceId, clusterId);
        if (cluster.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || cluster.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
            return RedisConnection.Problem(cluster) is { } problem
                ? throw new UserInputException(problem, ExitCodes.UsageError)
                : new(ClusterKind.Redis, cluster, dataDir, storage, container, serviceId, clusterId);
        if (HostPort().IsMatch(cluster))
            return new(ClusterKind.Gateway, cluster, dataDir, storage, container, serviceId, clusterId);
        throw new UserInputException($"--cluster '{RedisConnection.Redacted(cluster)}' is not valid: use 'localhost', 'redis://HOST:PORT' or 'HOST:PORT' (a gateway)", ExitCodes.UsageError);
    }

    public IPEndPoint GatewayEndPoint()
    {
        var colon = Value.LastIndexOf(':');
        var host = Value[..colon];
        var port = int.Parse(Value[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var address = IPAddress.TryParse(host, out var ip) ? ip
            : Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
              ?? throw new UserInputException($"cannot resolve gateway host '{host}'", ExitCodes.ClusterUnreachable);
        return new IPEndPoint(address, port);
    }

    [GeneratedRegex(@"^[A-Za-z0-9.\-]+:\d{1,5}$")]
    private static partial Regex HostPort();
}
