using System.Net;
using System.Net.Sockets;

namespace Orchestrator.Contracts.Hosting;

/// <summary>
/// A TCP port that was free a moment ago, for a server that a test or an embedded silo starts (the one implementation). Drawn at random below the kernel's ephemeral
/// range: a port from inside it (what binding port 0 gives) can be taken by any outgoing connection's local end before
/// the server binds it — seen as a TLS silo failing to bind its HTTP port on 0.0.0.0 while other suites ran. A port is
/// free when it binds on every interface, and is handed out once per process. Processes running side by side (the test
/// command's lanes) would otherwise hand out the same port to two servers between the pick and the bind, so each is
/// given its own range (<see cref="EnvironmentVariables.FreePortRange"/>).
/// </summary>
public static class FreePort
{
    private static readonly HashSet<int> Given = [];
    private static readonly Lock Gate = new();
    private static readonly (int Low, int High) Range =
        ParseRange(Environment.GetEnvironmentVariable(EnvironmentVariables.FreePortRange)) ?? BelowEphemeral();

    public static int Next()
    {
        lock (Gate)
        {
            for (var attempt = 0; attempt < 1000; attempt++)
            {
                var port = Random.Shared.Next(Range.Low, Range.High);
                if (Given.Contains(port) || !Bindable(port)) continue;
                Given.Add(port);
                return port;
            }
        }
        throw new InvalidOperationException($"no free TCP port in {Range.Low}–{Range.High - 1}");
    }

    private static bool Bindable(int port) => IsFree(IPAddress.Any, port);

    /// <summary>True when <paramref name="port"/> binds on <paramref name="address"/> now: a port a user chose is checked before a server starts on it.</summary>
    public static bool IsFree(IPAddress address, int port)
    {
        try
        {
            using var listener = new TcpListener(address, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>`LOW-HIGH` (high exclusive, 1024 ≤ LOW, at least 100 ports, HIGH ≤ 65536); null when unset or malformed.</summary>
    public static (int Low, int High)? ParseRange(string? text)
    {
        if (text?.Split('-', StringSplitOptions.TrimEntries) is not [var low, var high]) return null;
        if (!int.TryParse(low, out var l) || !int.TryParse(high, out var h)) return null;
        return l >= 1024 && h <= 65536 && h - l >= 100 ? (l, h) : null;
    }

    /// <summary>The 12,000 ports below the first ephemeral one (Linux: /proc/sys/net/ipv4/ip_local_port_range; 32768 by default).</summary>
    private static (int Low, int High) BelowEphemeral()
    {
        var first = 32768;
        try
        {
            var text = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (text.Length > 0 && int.TryParse(text[0], out var parsed) && parsed > 4096) first = parsed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return (Math.Max(1024, first - 12_000), first);
    }
}
