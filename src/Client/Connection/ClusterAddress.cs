using System.Net;
using System.Text.RegularExpressions;
using Orchestrator.Client.Commands;

namespace Orchestrator.Client.Connection;

public enum ClusterKind { Embedded, Redis, Gateway }

/// <summary>A parsed `--cluster` value and the storage that goes with it.</summary>
public sealed partial record ClusterAddress(ClusterKind Kind, string Value, string DataDir, string? Storage, string Container, string ServiceId, string ClusterId)
{
    public static ClusterAddress Parse(string cluster, string dataDir, string? storage, string container, string serviceId, string clusterId)
    {
        if (cluster.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            return new(ClusterKind.Embedded, cluster, dataDir, storage, container, serviceId, clusterId);
        if (cluster.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) && HostPort().IsMatch(cluster["redis://".Length..].TrimEnd('/')))
            return new(ClusterKind.Redis, cluster["redis://".Length..].TrimEnd('/'), dataDir, storage, container, serviceId, clusterId);
        if (HostPort().IsMatch(cluster))
            return new(ClusterKind.Gateway, cluster, dataDir, storage, container, serviceId, clusterId);
        throw new UserInputException($"--cluster '{cluster}' is not valid: use 'localhost', 'redis://HOST:PORT' or 'HOST:PORT' (a gateway)", ExitCodes.UsageError);
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
