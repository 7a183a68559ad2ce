using Orchestrator.Contracts.Hosting;
using Azure.Storage.Blobs;

namespace Orchestrator.TestServers;

/// <summary>
/// Azurite's blob service on 127.0.0.1 and a free port, data in a temp folder. <see cref="StopAsync"/> and
/// <see cref="RestartAsync"/> simulate an outage: the restart uses the same port and folder, so data persists.
/// Needs <c>scripts/setup.sh --test</c> (Azurite in ./node_modules).
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    public const string AccountName = "devstoreaccount1";

    /// <summary>Azurite's well-known development key (public, documented by Microsoft).</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly string _script;
    private ChildProcess? _process;

    private AzuriteServer(string script, string root, int port)
    {
        _script = script;
        Root = root;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The temp folder: Azurite's data under <c>data/</c>, its output in <see cref="LogPath"/>.</summary>
    public string Root { get; }

    public string DataLocation => Path.Combine(Root, "data");

    public string LogPath => Path.Combine(Root, "azurite.log");

    public Uri BlobEndpoint => new($"http://127.0.0.1:{Port}/{AccountName}");

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint={BlobEndpoint};";

    public bool IsRunning => _process is { HasExited: false };

    public static async Task<AzuriteServer> StartAsync(CancellationToken ct = default)
    {
        var repository = RepositoryRoot.Find();
        var script = Path.Combine(repository, "node_modules", "azurite", "dist", "src", "blob", "main.js");
        if (!File.Exists(script))
        {
            throw new FileNotFoundException($"Azurite is not installed ({script} is missing). Run scripts/setup.sh --test.", script);
        }

        return await PortClash.StartAsync(() =>
            {
                var root = Path.Combine(Path.GetTempPath(), $"orchestrator-azurite-{Guid.NewGuid():N}");
                Directory.CreateDirectory(Path.Combine(root, "data"));
                return new AzuriteServer(script, root, FreePort.Next());
            },
            server => server.LaunchAsync(ct), "EADDRINUSE");
    }

    /// <summary>Stops the server (SIGTERM so Azurite saves its metadata, then kill). Data stays for a restart.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            await process.StopAsync(TimeSpan.FromSeconds(5));
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
        if (_process is { } process)
        {
            _process = null;
            await process.DisposeAsync();
        }

        TempFolder.TryDelete(Root);
    }

    private async Task LaunchAsync(CancellationToken ct)
    {
        string[] arguments =
        [
            _script,
            "--blobHost", "127.0.0.1",
            "--blobPort", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--location", DataLocation,
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
            "--disableTelemetry",
        ];
        _process = ChildProcess.Start("node", arguments, LogPath, Root);
        var client = new BlobServiceClient(ConnectionString, new BlobClientOptions
        {
            Retry = { MaxRetries = 0, NetworkTimeout = TimeSpan.FromSeconds(2) },
        });
        await _process.WaitUntilReadyAsync(
            async token =>
            {
                await client.GetPropertiesAsync(token);
                return true;
            },
            StartTimeout,
            ct);
    }
}
