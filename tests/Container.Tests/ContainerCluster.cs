using Orchestrator.Contracts.Hosting;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Orchestrator.TestServers;
using Xunit.Abstractions;

namespace Orchestrator.Container.Tests;

/// <summary>
/// Silo containers from the image, wired as deploy/k8s wires pods (base Deployment + dev overlay): the ORCHESTRATOR_*
/// variables of the ConfigMap, the storage connection string and Redis' password as secret variables, the downward-API
/// variables, mutual TLS from a Secret-like folder mounted read-only at /etc/orchestrator/tls, uid 10001, a read-only
/// root filesystem with /data and /tmp the only writable mounts (emptyDir: host folders), all capabilities dropped,
/// no privilege escalation, the dev overlay's limits (2 CPUs, 2 GiB) and the 180 s grace period.
/// Redis (with a password) and Azurite run as host processes on loopback; the containers share the host's network,
/// so each silo gets its own ports (a pod would have its own IP) and POD_IP is 127.0.0.1.
/// </summary>
public sealed class ContainerCluster : IAsyncDisposable
{
    /// <summary>A killed silo's trials are re-queued after this many seconds of silence (the product's default is 30).</summary>
    public const int HeartbeatTimeoutSeconds = 4;

    public const int GracePeriodSeconds = 180;
    public const string StorageContainer = "orchestrator-dev";
    private const string TlsMount = "/etc/orchestrator/tls";

    /// <summary>The pod labels orleans/serviceId and orleans/clusterId of the manifests.</summary>
    public const string OrleansId = "orchestrator";

    private readonly ITestOutputHelper _output;
    private readonly string _runId = Guid.NewGuid().ToString("N")[..8];

    private ContainerCluster(ITestOutputHelper output, string root, RedisServer redis, AzuriteServer azurite)
    {
        _output = output;
        Root = root;
        Redis = redis;
        Azurite = azurite;
        Artifacts = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(StorageContainer);
    }

    public string Root { get; }
    public RedisServer Redis { get; }
    public AzuriteServer Azurite { get; }
    public BlobContainerClient Artifacts { get; }
    public List<SiloContainer> Silos { get; } = [];
    public string Certificates => Path.Combine(Root, "certs");
    public string ClusterUri => $"redis://127.0.0.1:{Redis.Port}";

    /// <summary>What a Kubernetes Secret would hold: handed to podman's environment and passed by name only.</summary>
    private IReadOnlyDictionary<string, string> Secrets => new Dictionary<string, string>
    {
        ["ORCHESTRATOR_STORAGE"] = Azurite.ConnectionString,
        ["ORCHESTRATOR_REDIS_PASSWORD"] = Redis.Password!,
    };

    public static async Task<ContainerCluster> StartAsync(ITestOutputHelper output, int silos)
    {
        var root = Path.Combine(Path.GetTempPath(), $"orchestrator-containers-{Guid.NewGuid():N}"[..34]);
        Directory.CreateDirectory(root);
        var redis = await RedisServer.StartWithPasswordAsync(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        var azurite = await AzuriteServer.StartAsync();
        var cluster = new ContainerCluster(output, root, redis, azurite);
        await cluster.CreateCertificatesAsync();
        for (var i = 0; i < silos; i++) cluster.Silos.Add(new SiloContainer(cluster, $"silo-{i}"));
        await Task.WhenAll(cluster.Silos.Select(s => s.StartAsync()));
        return cluster;
    }

    /// <summary>`orchestrator certs create` from the image, as uid 10001 (create-secrets.sh runs the same verb).</summary>
    private async Task CreateCertificatesAsync()
    {
        var folder = WritableFolder("certs");
        await Podman.CheckedAsync(["run", "--rm", .. RestrictedOptions, "--network", "none", "-v", $"{folder}:/out",
            SiloImage.Tag, "orchestrator", "certs", "create", "--out", "/out/tls", "--days", "1"]);
    }

    /// <summary>A host folder for an emptyDir-like mount: owned by uid 10001, like fsGroup makes it.</summary>
    public string WritableFolder(string name)
    {
        var path = Path.Combine(Root, name);
        Directory.CreateDirectory(path);
        Chown(path);
        return path;
    }

    /// <summary>The pod and container securityContext of the manifests, plus the ulimits podman needs here.</summary>
    public static readonly string[] RestrictedOptions =
    [
        "--user", "10001:10001", "--read-only", "--read-only-tmpfs=false", "--cap-drop", "all", "--security-opt", "no-new-privileges",
        "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
    ];

    /// <summary>`orchestrator submit FILE` from the image, as the submit Job runs it: client certificate mounted read-only.</summary>
    public async Task<CliResult> SubmitFromImageAsync(string sweepsFolder, string file)
    {
        var tmp = WritableFolder($"submit-tmp-{Guid.NewGuid():N}"[..20]);
        return await Podman.RunAsync(
        [
            "run", "--rm", .. RestrictedOptions, "--network", "host", "--cpus", "1", "--memory", "512m",
            "-v", $"{sweepsFolder}:/sweeps:ro", "-v", $"{tmp}:/tmp", "-v", $"{Path.Combine(Certificates, "tls", "client")}:{TlsMount}:ro",
            "-e", "ORCHESTRATOR_CLUSTER=" + ClusterUri, "-e", "ORCHESTRATOR_REDIS_PASSWORD",
            // The Job's pod labels, as the silos' (deploy/k8s/base/submit-sweep-job.yaml).
            "-e", "ORLEANS_SERVICE_ID=" + OrleansId, "-e", "ORLEANS_CLUSTER_ID=" + OrleansId,
            "-e", $"ORCHESTRATOR_TLS_CERT={TlsMount}/tls.crt", "-e", $"ORCHESTRATOR_TLS_KEY={TlsMount}/tls.key", "-e", $"ORCHESTRATOR_TLS_CA={TlsMount}/ca.crt",
            SiloImage.Tag, "orchestrator", "submit", $"/sweeps/{file}", "--cluster", ClusterUri,
        ], TimeSpan.FromSeconds(180), Secrets);
    }

    /// <summary>A CLI verb from the host's build, as an operator watching the cluster (client certificate, Redis password).</summary>
    public Task<CliResult> CliAsync(params string[] args)
    {
        var tls = Path.Combine(Certificates, "tls", "client");
        return Cli.RunAsync([.. args, "--cluster", ClusterUri, "--tls-cert", Path.Combine(tls, "tls.crt"), "--tls-key", Path.Combine(tls, "tls.key"), "--tls-ca", Path.Combine(tls, "ca.crt")],
            Root, environment: new Dictionary<string, string>(Secrets) { ["ORLEANS_SERVICE_ID"] = OrleansId, ["ORLEANS_CLUSTER_ID"] = OrleansId });
    }

    /// <summary>
    /// Polls the trials through the silos' HTTP API (<see cref="SiloTrialsApi"/>; a silo that is stopped or draining is
    /// skipped) until <paramref name="condition"/> holds, failing only after <paramref name="stall"/> without progress
    /// (<see cref="ProgressWait"/>). Assertions after the wait read the CLI.
    /// </summary>
    public async Task<IReadOnlyList<TrialRow>> WaitForTrialsAsync(string sweep, string what, Func<IReadOnlyList<TrialRow>, bool> condition, TimeSpan stall)
    {
        using var api = new SiloTrialsApi(() => Silos.Select(s => new Uri($"http://127.0.0.1:{s.HttpPort}/")));
        return await ProgressWait.UntilAsync(() => api.PollAsync(sweep), condition, what, stall, () => LogTailsAsync());
    }

    public int SiloRunning(TrialRow trial) =>
        Silos.FindIndex(s => trial.Worker is { } w && w.StartsWith(s.Name + "/", StringComparison.Ordinal));

    /// <summary>
    /// Every trial exactly once: the sweep finished with nothing queued or running, each trial terminal and succeeded,
    /// each in the leaderboard once, and one result.json per trial in Blob storage whose sha256 matches its metadata.
    /// </summary>
    public async Task<IReadOnlyList<TrialRow>> AssertExactlyOnceAsync(string sweep, int expectedTrials)
    {
        var trials = await WaitForTrialsAsync(sweep, $"sweep {sweep} finished", t => t.Count > 0 && t.All(r => r.IsTerminal), TimeSpan.FromMinutes(3));
        var status = CliJson.Parse<List<SweepStatusRow>>((await Checked("status", sweep, "--json")).Stdout).Single();
        var leaderboard = CliJson.Parse<List<LeaderboardRow>>((await Checked("leaderboard", sweep, "--format", "json")).Stdout);
        Assert.Equal("finished", status.State.ToLowerInvariant());
        Assert.Equal(0, status.Queued);
        Assert.Equal(0, status.Running);
        Assert.Equal(expectedTrials, trials.Count);
        Assert.All(trials, t => Assert.True(t.Is("succeeded"), t.ToString()));
        Assert.Equal(trials.Select(t => t.TrialId).Order(), leaderboard.Select(e => e.TrialId).Order());

        var results = new Dictionary<string, string>();
        await foreach (var blob in Artifacts.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata, Prefix = $"sweeps/{sweep}/trials/" }))
        {
            if (!blob.Name.EndsWith("/result.json", StringComparison.Ordinal)) continue;
            var content = (await Artifacts.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToArray();
            Assert.True(blob.Metadata.TryGetValue("sha256", out var recorded), $"{blob.Name} has no sha256 metadata");
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), recorded!.ToLowerInvariant());
            results.Add(blob.Name.Split('/')[3], recorded);
        }
        Assert.Equal(trials.Select(t => t.TrialId).Order(), results.Keys.Order());
        return trials;

        async Task<CliResult> Checked(params string[] args)
        {
            var result = await CliAsync(args);
            Assert.True(result.ExitCode == 0, $"orchestrator {string.Join(' ', args)}: {result}");
            return result;
        }
    }

    public async Task<JsonDocument> ResultAsync(string sweep, string trial) =>
        JsonDocument.Parse((await Artifacts.GetBlobClient($"sweeps/{sweep}/trials/{trial}/result.json").DownloadContentAsync()).Value.Content.ToArray());

    public async Task<string> LogTailsAsync(int lines = 30)
    {
        var tails = new List<string>();
        foreach (var silo in Silos)
        {
            var logs = await Podman.RunAsync(["logs", "--tail", lines.ToString(CultureInfo.InvariantCulture), silo.ContainerName]);
            tails.Add($"--- {silo.ContainerName} (last {lines} lines):\n{logs.Stdout}{logs.Stderr}");
        }
        return string.Join('\n', tails);
    }

    public async ValueTask DisposeAsync()
    {
        // The silo logs outlive the cluster, for a failure's post-mortem.
        var logs = Path.Combine(Path.GetTempPath(), "orchestrator-container-logs", _runId);
        Directory.CreateDirectory(logs);
        foreach (var silo in Silos)
        {
            var log = await Podman.RunAsync(["logs", silo.ContainerName]);
            await File.WriteAllTextAsync(Path.Combine(logs, silo.Name + ".log"), log.Stdout + log.Stderr);
            await Podman.RunAsync(["rm", "--force", "--time", "0", silo.ContainerName]);
        }
        _output.WriteLine($"silo container logs: {logs}");
        await Azurite.DisposeAsync();
        await Redis.DisposeAsync();
        TempFolder.TryDelete(Root);
    }

    public string ContainerName(string silo) => $"orchestrator-ctest-{_runId}-{silo}";

    private static void Chown(string path)
    {
        if (Chown(path, 10001, 10001) != 0) throw new InvalidOperationException($"chown 10001:10001 {path} failed (the container test runs podman as root)");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int Chown(string path, int owner, int group);
}

/// <summary>One silo container: the pod of the Deployment, with its own ports on the host's network.</summary>
public sealed class SiloContainer(ContainerCluster cluster, string name)
{
    public string Name { get; } = name;
    public string ContainerName { get; } = cluster.ContainerName(name);
    public int SiloPort { get; } = FreePort.Next();
    public int GatewayPort { get; } = FreePort.Next();
    public int HttpPort { get; } = FreePort.Next();
    public TimeSpan StartedAfter { get; private set; }

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };

    public async Task StartAsync()
    {
        var data = cluster.WritableFolder($"{Name}-data");
        var tmp = cluster.WritableFolder($"{Name}-tmp");
        const string tls = "/etc/orchestrator/tls";
        var clock = Stopwatch.StartNew();
        await Podman.CheckedAsync(
        [
            "run", "--detach", "--name", ContainerName, "--label", "io.orchestrator.test=container-tests",
            .. ContainerCluster.RestrictedOptions, "--network", "host",
            // The dev overlay's limits and the Deployment's grace period.
            "--cpus", "2", "--memory", "2g", "--stop-timeout", ContainerCluster.GracePeriodSeconds.ToString(CultureInfo.InvariantCulture),
            "-v", $"{data}:/data", "-v", $"{tmp}:/tmp", "-v", $"{Path.Combine(cluster.Certificates, "tls", "silo")}:{tls}:ro",
            // ConfigMap orchestrator-config (base + dev overlay).
            "-e", "ORCHESTRATOR_CLUSTER=" + cluster.ClusterUri, "-e", "ORCHESTRATOR_STORAGE_CONTAINER=" + ContainerCluster.StorageContainer,
            "-e", "ORCHESTRATOR_SLOTS=1", "-e", "ORCHESTRATOR_DEVICE=cpu", "-e", "ORCHESTRATOR_ACCELERATOR=cpu", "-e", "ORCHESTRATOR_DASHBOARD=true",
            "-e", "ORCHESTRATOR_DATA_DIR=/data",
            "-e", $"ORCHESTRATOR_TLS_CERT={tls}/tls.crt", "-e", $"ORCHESTRATOR_TLS_KEY={tls}/tls.key", "-e", $"ORCHESTRATOR_TLS_CA={tls}/ca.crt",
            // Secrets orchestrator-storage and orchestrator-redis: values from podman's environment.
            "-e", "ORCHESTRATOR_STORAGE", "-e", "ORCHESTRATOR_REDIS_PASSWORD",
            // The downward API.
            "-e", "POD_NAME=" + Name, "-e", "POD_IP=127.0.0.1", "-e", "POD_NAMESPACE=orchestrator",
            "-e", "ORLEANS_SERVICE_ID=" + ContainerCluster.OrleansId, "-e", "ORLEANS_CLUSTER_ID=" + ContainerCluster.OrleansId,
            // Ports: a pod owns its IP; on the host's network each silo needs its own.
            "-e", $"ORCHESTRATOR_SILO_PORT={SiloPort}", "-e", $"ORCHESTRATOR_GATEWAY_PORT={GatewayPort}", "-e", $"ORCHESTRATOR_HTTP_PORT={HttpPort}",
            // The one setting the manifests do not make: the fault tests' heartbeat timeout (4 s for the default 30 s), so a
            // killed container's trial is re-queued in seconds (it took 36 s, the longest wait of the suite's longest test).
            "-e", $"{EnvironmentVariables.HeartbeatTimeoutSeconds}={ContainerCluster.HeartbeatTimeoutSeconds}",
            SiloImage.Tag,
        ], environment: new Dictionary<string, string>
        {
            ["ORCHESTRATOR_STORAGE"] = cluster.Azurite.ConnectionString,
            ["ORCHESTRATOR_REDIS_PASSWORD"] = cluster.Redis.Password!,
        });

        // The startup probe's budget: failureThreshold 60 x periodSeconds 5.
        await WaitForAsync("/health/startup", HttpStatus.Ok, TimeSpan.FromSeconds(300), clock);
        StartedAfter = clock.Elapsed;
    }

    public async Task<int?> ProbeAsync(string path)
    {
        try
        {
            using var response = await Http.GetAsync($"http://127.0.0.1:{HttpPort}{path}");
            return (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null; // not listening (yet, or any more)
        }
    }

    public async Task WaitForAsync(string path, HttpStatus status, TimeSpan timeout, Stopwatch? clock = null)
    {
        clock ??= Stopwatch.StartNew();
        int? last = null;
        while (clock.Elapsed < timeout)
        {
            last = await ProbeAsync(path);
            if (last == (int)status) return;
            var state = await Podman.RunAsync(["inspect", "--format", "{{.State.Status}}", ContainerName]);
            if (state.Stdout.Trim() is "exited" or "stopped")
                Assert.Fail($"{ContainerName} exited before {path} answered {(int)status}\n{await cluster.LogTailsAsync(60)}");
            await Task.Delay(500);
        }
        Assert.Fail($"{ContainerName}: {path} answered {last?.ToString(CultureInfo.InvariantCulture) ?? "nothing"}, not {(int)status}, within {timeout.TotalSeconds:0} s\n{await cluster.LogTailsAsync(60)}");
    }

    /// <summary>The container's state and exit code, from podman.</summary>
    public async Task<(string Status, int ExitCode)> StateAsync()
    {
        var text = await Podman.CheckedAsync(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", ContainerName]);
        var parts = text.Split(' ');
        return (parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture));
    }
}

public enum HttpStatus
{
    Ok = 200,
}

