using Orchestrator.Contracts.Hosting;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Orchestrator.TestServers;

/// <summary>
/// redis-server on 127.0.0.1 and a free port, with an append-only file (fsync on every write) in a temp folder,
/// so <see cref="RestartAsync"/> brings back the same data on the same port, even after <see cref="KillAsync"/>.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private ChildProcess? _process;

    private RedisServer(string executable, string root, int port, string? password)
    {
        Executable = executable;
        Root = root;
        Port = port;
        Password = password;
    }

    /// <summary>The `requirepass` password, or null for a server that lets anyone in.</summary>
    public string? Password { get; }

    public string Executable { get; }

    public int Port { get; }

    /// <summary>The temp folder: the append-only file and <see cref="LogPath"/>.</summary>
    public string Root { get; }

    public string LogPath => Path.Combine(Root, "redis.log");

    /// <summary>"127.0.0.1:PORT", as StackExchange.Redis and Orleans' Redis providers take it.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    public bool IsRunning => _process is { HasExited: false };

    public static Task<RedisServer> StartAsync(CancellationToken ct = default) => StartAsync(password: null, ct);

    /// <summary>A server that answers only clients that AUTH with <paramref name="password"/> (`requirepass`).</summary>
    public static Task<RedisServer> StartWithPasswordAsync(string password, CancellationToken ct = default) => StartAsync(password, ct);

    private static async Task<RedisServer> StartAsync(string? password, CancellationToken ct)
    {
        var executable = FindExecutable()
            ?? throw new FileNotFoundException("redis-server is not installed. Run scripts/setup.sh --test.", "redis-server");

        return await PortClash.StartAsync(() =>
            {
                var root = Path.Combine(Path.GetTempPath(), $"orchestrator-redis-{Guid.NewGuid():N}");
                Directory.CreateDirectory(root);
                return new RedisServer(executable, root, FreePort.Next(), password);
            },
            server => server.LaunchAsync(ct), "Address already in use");
    }

    /// <summary>Stops the server (SIGTERM, then kill). Data stays for a restart.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            await process.StopAsync(TimeSpan.FromSeconds(5));
            await process.DisposeAsync();
        }
    }

    /// <summary>Kills the server with no warning, like a crashed node. The append-only file still has every write.</summary>
    public async Task KillAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            await process.DisposeAsync();
        }
    }

    /// <summary>Starts it again on the same port with the same data.</summary>
    public async Task RestartAsync(CancellationToken ct = default)
    {
        await StopAsync();
        await LaunchAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        TempFolder.TryDelete(Root);
    }

    private async Task LaunchAsync(CancellationToken ct)
    {
        // The password goes in a config file, not the command line, which the log records.
        var config = Path.Combine(Root, "redis.conf");
        if (Password is not null) File.WriteAllText(config, $"requirepass {Password}\n");
        string[] arguments =
        [
            .. Password is null ? Array.Empty<string>() : [config],
            "--port", Port.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--dir", Root,
        ];
        _process = ChildProcess.Start(Executable, arguments, LogPath, Root);
        await _process.WaitUntilReadyAsync(PingAsync, StartTimeout, ct);
    }

    /// <summary>True when the server answers PING with PONG (not LOADING while it replays the append-only file).</summary>
    private async Task<bool> PingAsync(CancellationToken ct)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port, ct);
        var stream = client.GetStream();
        var auth = Password is null ? "" : $"AUTH {Password}\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(auth + "PING\r\n"), ct);
        var expected = (Password is null ? "" : "+OK\r\n") + "+PONG";
        var buffer = new byte[64];
        var received = "";
        while (received.Length < expected.Length && await stream.ReadAsync(buffer, ct) is > 0 and var read)
            received += Encoding.ASCII.GetString(buffer, 0, read);
        return received.StartsWith(expected, StringComparison.Ordinal);
    }

    private static string? FindExecutable()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Append("/usr/local/bin")
            .Select(dir => Path.Combine(dir, "redis-server"))
            .FirstOrDefault(File.Exists);
    }
}
