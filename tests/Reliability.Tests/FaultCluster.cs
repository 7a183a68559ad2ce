using Orchestrator.Contracts.Hosting;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Orchestrator.Silo.Security;
using Orchestrator.TestServers;
using Xunit.Abstractions;

namespace Orchestrator.Reliability.Tests;

/// <summary>
/// A cluster of real processes on 127.0.0.1, as a user deploys it: redis-server (membership, grain state,
/// journals), Azurite (artifacts) and silos started as `orchestrator silo`, one training slot each. Faults are
/// injected from outside: kill -9 a silo, stop Azurite, restart Redis. Waits follow the trials through the silos' HTTP
/// API; each outcome is checked through the CLI (trials, status, leaderboard), Blob Storage and Redis, as a user would.
/// </summary>
public sealed class FaultCluster : IAsyncDisposable
{
    /// <summary>A killed worker's trial is re-queued after this many seconds of silence (the default is 30).</summary>
    public const int HeartbeatTimeoutSeconds = 4;

    /// <summary>
    /// How many steps a trial may train between the step a wait last saw and the moment the test acts on it: progress is
    /// reported every <see cref="ProgressIntervalSeconds"/>, the silo's trial table is re-read as often, a wait polls every
    /// 250 ms, and a one-thread MNIST trial alone on a core trains about 1,000 steps a second (three at once on two cores,
    /// about 400 each; a pack of four, about 250): about 700 steps at most. A trial meant to be hit mid-training is seen at
    /// least this many steps before its end, and a window a wait must see it in is at least this wide. A pack trains about
    /// a quarter as fast as a trial alone: half of it, with room, is a pack's margin. Trials are only as long as these
    /// windows need: training past the fault is most of a fault test's time.
    /// </summary>
    public const int ObservationLagSteps = 1000;

    /// <summary>Seconds between a trial's progress reports (and the silo's re-reads of a sweep): a fifth of the default, so waits see steps sooner.</summary>
    public const double ProgressIntervalSeconds = 0.2;

    /// <summary>Sets the environment every silo and CLI process the tests start inherits.</summary>
    public static void ApplyTestEnvironment()
    {
        // Inherited by every silo and CLI process the tests start (and by the embedded `run`).
        Environment.SetEnvironmentVariable(EnvironmentVariables.HeartbeatTimeoutSeconds, HeartbeatTimeoutSeconds.ToString(CultureInfo.InvariantCulture));
        Environment.SetEnvironmentVariable(EnvironmentVariables.ProgressIntervalSeconds, ProgressIntervalSeconds.ToString(CultureInfo.InvariantCulture));
        // Three silos share two cores: one libtorch thread each instead of each one claiming every core (TorchThreads
        // honours OMP_NUM_THREADS; before it did, each silo ran two threads whose idle spinning took a third of a core).
        Environment.SetEnvironmentVariable("OMP_NUM_THREADS", "1");
        // Each line of a silo's log (kept under orchestrator-reliability-logs) starts with its time, so a failed fault
        // test's log shows how long each step of a recovery took.
        Environment.SetEnvironmentVariable("Logging__Console__FormatterOptions__TimestampFormat", "HH:mm:ss.fff ");
    }

    private readonly ITestOutputHelper _output;
    private readonly List<SiloProcess> _silos;

    private FaultCluster(ITestOutputHelper output, string root, RedisServer redis, AzuriteServer azurite, int silos, NewClusterCertificates? certificates)
    {
        _output = output;
        Root = root;
        Redis = redis;
        Azurite = azurite;
        Certificates = certificates;
        _silos = Enumerable.Range(0, silos).Select(i => new SiloProcess($"silo-{i}", FreePort.Next(), FreePort.Next(), FreePort.Next(), Path.Combine(root, $"silo-{i}"))).ToList();
        Artifacts = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("artifacts");
        _api = new SiloTrialsApi(LiveSiloUris);
    }

    private readonly SiloTrialsApi _api;

    /// <summary>The cluster's CA and its silo and client certificates when it runs with mutual TLS; null: plaintext.</summary>
    public NewClusterCertificates? Certificates { get; }

    /// <summary>
    /// A secured cluster (Redis password and/or TLS) hands its secrets to silos and CLI runs as environment variables,
    /// as a Kubernetes Secret does, never as arguments (which the logs record).
    /// </summary>
    public bool IsSecured => Certificates is not null || Redis.Password is not null;

    /// <summary>The secrets every silo and CLI run of a secured cluster gets: storage connection string, Redis password.</summary>
    public IReadOnlyDictionary<string, string> SecretEnvironment => IsSecured
        ? new Dictionary<string, string>
        {
            ["ORCHESTRATOR_STORAGE"] = Azurite.ConnectionString,
            ["ORCHESTRATOR_REDIS_PASSWORD"] = Redis.Password ?? "",
        }
        : new Dictionary<string, string>();

    /// <summary>The arguments that give a CLI run or a silo a TLS identity (and its deny list of certificate serials, if any).</summary>
    public static string[] TlsArguments(TlsFiles? tls) => tls is null
        ? []
        : ["--tls-cert", tls.Certificate, "--tls-key", tls.Key!, "--tls-ca", tls.Authority, .. tls.RevokedSerials is { } revoked ? new[] { "--revoked-serials", revoked } : []];

    public string Root { get; }

    public RedisServer Redis { get; }

    public AzuriteServer Azurite { get; }

    public BlobContainerClient Artifacts { get; }

    public IReadOnlyList<SiloProcess> Silos => _silos;

    /// <summary>Storage as a CLI or silo argument; a secured cluster passes it in <see cref="SecretEnvironment"/> instead.</summary>
    private string[] StorageArguments => IsSecured ? [] : ["--storage", Azurite.ConnectionString];

    public string ClusterUri => $"redis://{Redis.Endpoint}";

    /// <summary>Starts Redis, Azurite and the silos, and waits until every silo answers /health/ready.</summary>
    /// <param name="tls">Mutual TLS between silos and from clients, with certificates of a new CA under <see cref="Root"/>.</param>
    /// <param name="redisPassword">Redis runs with `requirepass`; silos and CLI runs get the password from the environment.</param>
    public static async Task<FaultCluster> StartAsync(ITestOutputHelper output, int silos = 3, bool tls = false, string? redisPassword = null)
    {
        ApplyTestEnvironment();
        var clock = Stopwatch.StartNew();
        var root = Path.Combine(Path.GetTempPath(), $"orchestrator-faults-{Guid.NewGuid():N}"[..30]);
        Directory.CreateDirectory(root);
        var certificates = tls ? NewClusterCertificates.Create(Path.Combine(root, "certs"), TimeSpan.FromDays(1)) : null;
        // Both servers start at once (Azurite's node takes a second or two to listen, more beside the rest of the suite).
        var starting = AzuriteServer.StartAsync();
        RedisServer redis;
        try
        {
            redis = redisPassword is null ? await RedisServer.StartAsync() : await RedisServer.StartWithPasswordAsync(redisPassword);
        }
        catch
        {
            if (await Task.WhenAny(starting) is { IsCompletedSuccessfully: true }) await starting.Result.DisposeAsync();
            throw;
        }
        var azurite = await starting;
        var cluster = new FaultCluster(output, root, redis, azurite, silos, certificates);
        await Task.WhenAll(Enumerable.Range(0, silos).Select(cluster.StartSiloAsync));
        output.WriteLine($"cluster up in {clock.Elapsed.TotalSeconds:0.0} s: redis {redis.Endpoint}, azurite {azurite.Port}, {silos} silos" +
            (tls ? ", mutual TLS" : "") + (redisPassword is null ? "" : ", Redis password"));
        return cluster;
    }

    /// <summary>
    /// One more silo, not started: its own <paramref name="tls"/> identity (say, another CA's) instead of the cluster's.
    /// Start it with <see cref="LaunchSilo"/> (no wait) or <see cref="StartSiloAsync(int)"/>.
    /// </summary>
    public int AddSilo(string name, TlsFiles? tls)
    {
        _silos.Add(new SiloProcess(name, FreePort.Next(), FreePort.Next(), FreePort.Next(), Path.Combine(Root, name)) { Tls = tls });
        return _silos.Count - 1;
    }

    /// <summary>Starts the silo's process and returns at once (for a silo that is expected never to become ready).</summary>
    public ChildProcess LaunchSilo(int index)
    {
        var silo = _silos[index];
        Directory.CreateDirectory(silo.DataDir);
        silo.Process = Cli.Start(
        [
            "silo", "--cluster", ClusterUri, .. StorageArguments, "--slots", "1", "--data-dir", silo.DataDir,
            "--silo-port", Port(silo.SiloPort), "--gateway-port", Port(silo.GatewayPort), "--http-port", Port(silo.HttpPort), "--name", silo.Name,
            .. TlsArguments(silo.Tls ?? Certificates?.Silo.ToTlsFiles()),
        ], silo.LogPath, Root, SecretEnvironment);
        return silo.Process;
    }

    public Task StartSiloAsync(int index) => StartSiloAsync(index, TimeSpan.FromSeconds(90));

    /// <param name="readyWithin">How long the silo may take to answer /health/ready.</param>
    public async Task StartSiloAsync(int index, TimeSpan readyWithin)
    {
        var silo = _silos[index];
        LaunchSilo(index);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await silo.Process!.WaitUntilReadyAsync(
            async ct => (await http.GetAsync($"http://127.0.0.1:{silo.HttpPort}/health/ready", ct)).IsSuccessStatusCode,
            readyWithin, CancellationToken.None);
    }

    /// <summary>kill -9: no drain, no goodbye; its trials are found only by missed heartbeats.</summary>
    public async Task KillSiloAsync(int index)
    {
        if (_silos[index].Process is { } process)
        {
            _silos[index].Process = null;
            await process.KillAsync();
            await process.DisposeAsync();
        }
    }

    public int SiloRunning(TrialRow trial) =>
        _silos.FindIndex(s => trial.Worker is { } w && w.StartsWith(s.Name + "/", StringComparison.Ordinal));

    /// <summary>A CLI verb against the cluster, as its user: with the client certificate when the cluster runs TLS.</summary>
    public Task<CliResult> CliAsync(params string[] args) =>
        CliAsAsync(Certificates?.Client.ToTlsFiles(), args);

    /// <summary>A CLI verb with the given TLS identity (null: none), for clients the cluster should refuse.</summary>
    public Task<CliResult> CliAsAsync(TlsFiles? tls, params string[] args) =>
        Cli.RunAsync([.. args, "--cluster", ClusterUri, .. StorageArguments, .. TlsArguments(tls)], Root, environment: SecretEnvironment);

    public async Task SubmitAsync(TestSweep sweep)
    {
        var result = await CliAsync("submit", sweep.WriteTo(Root));
        Assert.True(result.ExitCode == 0, $"submit failed: {result}");
    }

    public async Task<IReadOnlyList<TrialRow>> TrialsAsync(string sweep) =>
        await QueryAsync<List<TrialRow>>("trials", sweep, "--json");

    public async Task<SweepStatusRow> StatusAsync(string sweep) =>
        (await QueryAsync<List<SweepStatusRow>>("status", sweep, "--json")).Single();

    public async Task<IReadOnlyList<LeaderboardRow>> LeaderboardAsync(string sweep) =>
        await QueryAsync<List<LeaderboardRow>>("leaderboard", sweep, "--format", "json");

    /// <summary>
    /// Submits <paramref name="sweep"/> (its `pack` at least its trial count) and waits until every trial runs in one pack on
    /// one slot, at a step in [<paramref name="fromStep"/>, <paramref name="beforeStep"/>): a pack surely mid-training.
    /// </summary>
    public async Task<IReadOnlyList<TrialRow>> SubmitAndWaitForOnePackAsync(TestSweep sweep, long fromStep, long beforeStep)
    {
        await SubmitAsync(sweep);
        return await WaitForTrialsAsync(sweep.Name, $"one pack of {sweep.Ranks} at a step in [{fromStep}, {beforeStep})",
            trials => trials.Count == sweep.Ranks
                && trials.All(t => t.Is("running") && t.Pack is not null && t.Step >= fromStep && t.Step < beforeStep)
                && trials.Select(t => t.Worker).Distinct().Count() == 1,
            TimeSpan.FromSeconds(120));
    }

    /// <summary>
    /// Polls the trials through the live silos' HTTP API (<see cref="SiloTrialsApi"/>: a CLI process per poll would take
    /// the cores the silos train on) until <paramref name="condition"/> holds, failing only after <paramref name="stall"/>
    /// without progress (<see cref="ProgressWait"/>). Assertions after the wait read the CLI.
    /// </summary>
    public Task<IReadOnlyList<TrialRow>> WaitForTrialsAsync(string sweep, string what, Func<IReadOnlyList<TrialRow>, bool> condition, TimeSpan stall) =>
        ProgressWait.UntilAsync(() => _api.PollAsync(sweep), condition, what, stall, () => Task.FromResult(LogTails()));

    /// <summary>
    /// Polls the live silos' <c>GET /api/workers</c> (the rows `workers` prints) until one worker's row holds
    /// <paramref name="condition"/>: a poll costs milliseconds where a `workers` CLI process costs a CPU-second.
    /// </summary>
    public Task<IReadOnlyList<WorkerRow>> WaitForWorkersAsync(string what, Func<IReadOnlyList<WorkerRow>, bool> condition, TimeSpan stall) =>
        ProgressWait.UntilAsync(
            () => _api.PollAsync<IReadOnlyList<WorkerRow>>("api/workers",
                body => (JsonSerializer.Deserialize<List<WorkerRow>>(body, SiloTrialsApi.Json) ?? throw new InvalidOperationException("an empty answer"), body)),
            condition, what, stall, () => Task.FromResult(LogTails()));

    /// <summary>The HTTP endpoints of the silos that run now (a killed one is skipped until it is started again).</summary>
    private IEnumerable<Uri> LiveSiloUris() =>
        _silos.Where(s => s.Process is { HasExited: false }).Select(s => new Uri($"http://127.0.0.1:{s.HttpPort}/"));

    public Task<IReadOnlyList<TrialRow>> WaitFinishedAsync(string sweep, TimeSpan stall) =>
        WaitForTrialsAsync(sweep, $"sweep {sweep} finished", trials => trials.Count > 0 && trials.All(t => t.IsTerminal), stall);

    /// <summary>
    /// The promises of the issue, checked after a fault: the sweep is Finished, nothing queued or running, every
    /// succeeded trial in the leaderboard exactly once (nothing lost, nothing duplicated), and each result.json in
    /// Blob Storage matches the sha256 it was written with.
    /// </summary>
    public async Task<Outcome> AssertExactlyOnceAsync(string sweep, int expectedTrials, int expectedFailed = 0)
    {
        var status = await WaitStatusAsync(sweep, TimeSpan.FromSeconds(30));
        var trials = await TrialsAsync(sweep);
        var leaderboard = await LeaderboardAsync(sweep);
        Assert.Equal("finished", status.State.ToLowerInvariant());
        Assert.Equal(0, status.Running);
        Assert.Equal(0, status.Queued);
        Assert.Equal(expectedTrials, trials.Count);
        Assert.DoesNotContain(trials, t => !t.IsTerminal);
        var succeeded = trials.Where(t => t.Is("succeeded")).Select(t => t.TrialId).ToHashSet();
        Assert.Equal(expectedTrials - expectedFailed, succeeded.Count);
        Assert.Equal(expectedFailed, trials.Count(t => t.Is("failed")));

        var duplicates = leaderboard.GroupBy(e => e.TrialId).Sum(g => g.Count() - 1);
        var lost = succeeded.Count(id => leaderboard.All(e => e.TrialId != id));
        Assert.Equal(0, duplicates);
        Assert.Equal(0, lost);
        Assert.True(leaderboard.All(e => succeeded.Contains(e.TrialId)), "the leaderboard lists a trial that did not succeed");

        var results = await ResultChecksumsAsync(sweep);
        Assert.True(succeeded.SetEquals(results.Keys), $"result.json for [{string.Join(", ", results.Keys)}], succeeded [{string.Join(", ", succeeded)}]");
        return new Outcome(trials, leaderboard.Count, lost, duplicates, results.Count);
    }

    /// <summary>Every <c>sweeps/NAME/trials/*/result.json</c> blob, checked against its sha256 metadata: trial id → sha256.</summary>
    public async Task<Dictionary<string, string>> ResultChecksumsAsync(string sweep)
    {
        var results = new Dictionary<string, string>();
        await foreach (var blob in Artifacts.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata, Prefix = $"sweeps/{sweep}/trials/" }))
        {
            if (!blob.Name.EndsWith("/result.json", StringComparison.Ordinal)) continue;
            var content = (await Artifacts.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToArray();
            var actual = Convert.ToHexStringLower(SHA256.HashData(content));
            Assert.True(blob.Metadata.TryGetValue("sha256", out var recorded), $"{blob.Name} has no sha256 metadata");
            Assert.Equal(actual, recorded!.ToLowerInvariant());
            results[blob.Name.Split('/')[3]] = actual;
        }
        return results;
    }

    public async Task<JsonDocument> ResultAsync(string sweep, string trial) =>
        JsonDocument.Parse((await Artifacts.GetBlobClient($"sweeps/{sweep}/trials/{trial}/result.json").DownloadContentAsync()).Value.Content.ToArray());

    /// <summary>The checkpoint folders in Blob Storage for a trial, newest step first.</summary>
    public async Task<IReadOnlyList<(long Step, IReadOnlyList<string> Blobs)>> CheckpointsAsync(string sweep, string trial)
    {
        var prefix = $"sweeps/{sweep}/trials/{trial}/checkpoints/";
        var blobs = new List<string>();
        await foreach (var blob in Artifacts.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix })) blobs.Add(blob.Name);
        return blobs.GroupBy(b => b[prefix.Length..].Split('/')[0])
            .Where(g => g.Key.StartsWith("step-", StringComparison.Ordinal))
            .Select(g => (long.Parse(g.Key["step-".Length..], CultureInfo.InvariantCulture), (IReadOnlyList<string>)g.ToList()))
            .OrderByDescending(c => c.Item1).ToList();
    }

    public string LogTails(int lines = 25) =>
        string.Join('\n', _silos.Select(s => ChildProcess.ReadLogTail(s.LogPath, lines)));

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            if (silo.Process is { } process)
            {
                silo.Process = null;
                await process.DisposeAsync();
            }
        }
        _api.Dispose();
        await Azurite.DisposeAsync();
        await Redis.DisposeAsync();
        // The silo logs outlive the cluster, for a failure's post-mortem.
        var logs = Path.Combine(Path.GetTempPath(), "orchestrator-reliability-logs", Path.GetFileName(Root));
        Directory.CreateDirectory(logs);
        foreach (var silo in _silos.Where(s => File.Exists(s.LogPath)))
            File.Copy(silo.LogPath, Path.Combine(logs, Path.GetFileName(silo.LogPath)), overwrite: true);
        _output.WriteLine($"silo logs: {logs}");
        TempFolder.TryDelete(Root);
    }

    private async Task<SweepStatusRow> WaitStatusAsync(string sweep, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var status = await StatusAsync(sweep);
            if (status.State.Equals("finished", StringComparison.OrdinalIgnoreCase) || deadline.Elapsed > timeout) return status;
            await Task.Delay(250);
        }
    }

    private async Task<T> QueryAsync<T>(params string[] args)
    {
        CliResult result = null!;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            result = await CliAsync(args);
            if (result.ExitCode == 0) return CliJson.Parse<T>(result.Stdout);
            await Task.Delay(1000);
        }
        throw new InvalidOperationException($"orchestrator {string.Join(' ', args)}: {result}");
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}

public sealed class SiloProcess(string name, int siloPort, int gatewayPort, int httpPort, string dataDir)
{
    /// <summary>This silo's own TLS identity, when not the cluster's.</summary>
    public TlsFiles? Tls { get; init; }
    public string Name { get; } = name;
    public int SiloPort { get; } = siloPort;
    public int GatewayPort { get; } = gatewayPort;
    public int HttpPort { get; } = httpPort;
    public string DataDir { get; } = dataDir;
    public string LogPath => DataDir + ".log";
    public ChildProcess? Process { get; set; }
}


/// <summary>What a fault test reports: trials (with their attempts), leaderboard size, lost and duplicated trials, result files.</summary>
public sealed record Outcome(IReadOnlyList<TrialRow> Trials, int LeaderboardEntries, int Lost, int Duplicates, int ResultFiles)
{
    public int Rerun => Trials.Count(t => t.Attempts > 1);

    public override string ToString() =>
        $"{Trials.Count} trials, leaderboard {LeaderboardEntries} entries, lost {Lost}, duplicates {Duplicates}, result.json with valid sha256 {ResultFiles}; " +
        $"attempts: {string.Join(", ", Trials.Select(t => $"{t.TrialId}={t.Attempts}"))}";
}
