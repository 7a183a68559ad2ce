using Orchestrator.Contracts.Hosting;
using System.Diagnostics;
using Orchestrator.TestServers;
using Xunit.Abstractions;

namespace Orchestrator.Security.Tests;

/// <summary>
/// Who may talk to a cluster, with real processes on loopback: two silos with mutual TLS and Redis with a password.
/// A client with the cluster's certificate works; a client or a silo without one, or with another CA's, is refused
/// and changes nothing; a silo without Redis' password does not start.
/// </summary>
public sealed class SecureClusterTests : IClassFixture<SecureCluster>
{
    private readonly SecureCluster _fixture;
    private readonly ITestOutputHelper _output;

    public SecureClusterTests(SecureCluster fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        fixture.Output.Current = output;
    }

    private FaultCluster Cluster => _fixture.Cluster;

    private static string SmokeSweep => Path.Combine(Cli.RepositoryRoot, "sweeps", "mnist-smoke.yaml");

    [Fact]
    public async Task A_client_with_the_cluster_certificate_submits_mnist_smoke_and_it_completes_and_no_log_line_holds_a_secret()
    {
        var submit = await Cluster.CliAsync("submit", SmokeSweep);
        Assert.True(submit.ExitCode == 0, submit.ToString());

        var (trials, workers) = await FinishedAsync("mnist-smoke");
        Assert.Equal(3, trials.Count);
        Assert.All(trials, t => Assert.True(t.Is("succeeded"), t.ToString()));
        Assert.All(workers, w => Assert.Matches("^silo-[01]/", w));
        var status = await Cluster.StatusAsync("mnist-smoke");
        Assert.Equal("finished", status.State.ToLowerInvariant());

        // The storage key and Redis' password reached the silos and the CLI through the environment: no log holds them.
        var logs = Directory.EnumerateFiles(Cluster.Root, "*.log", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(logs);
        foreach (var log in logs)
        {
            var text = ReadShared(log);
            Assert.False(text.Contains(AzuriteServer.AccountKey, StringComparison.Ordinal), $"{log} holds the storage account key");
            Assert.False(text.Contains(SecureCluster.RedisPassword, StringComparison.Ordinal), $"{log} holds the Redis password");
        }
        foreach (var output in new[] { submit.Stdout, submit.Stderr })
        {
            Assert.DoesNotContain(AzuriteServer.AccountKey, output);
            Assert.DoesNotContain(SecureCluster.RedisPassword, output);
        }
        _output.WriteLine($"{trials.Count} trials succeeded on TLS silos; {logs.Count} logs scanned, no secret in them");
    }

    [Fact]
    public async Task A_client_without_a_certificate_is_refused_with_exit_4_and_the_sweep_list_is_unchanged()
    {
        var before = await SweepNamesAsync();
        var clock = Stopwatch.StartNew();
        var refused = await Cluster.CliAsAsync(tls: null, "submit", Intruding("intruder-plain"));
        _output.WriteLine($"refused in {clock.Elapsed.TotalSeconds:0.0} s: {refused.Stderr.Trim()}");
        AssertRefused(refused, "the cluster requires a client certificate: pass --tls-cert");

        var viaGateway = await Cli.RunAsync(["cancel", "mnist-smoke", "--cluster", $"127.0.0.1:{Cluster.Silos[0].GatewayPort}"], Cluster.Root);
        AssertRefused(viaGateway, "the cluster requires a client certificate: pass --tls-cert");
        Assert.Equal(before, await SweepNamesAsync());
    }

    [Fact]
    public async Task A_client_with_a_certificate_of_another_CA_is_refused_with_exit_4_and_the_sweep_list_is_unchanged()
    {
        var before = await SweepNamesAsync();
        var foreign = await Cluster.CliAsAsync(_fixture.Foreign.Client.ToTlsFiles(), "submit", Intruding("intruder-foreign"));
        AssertRefused(foreign, "is not issued by the cluster's CA");

        // An outsider who also trusts the cluster's CA (its certificate is public) still presents its own CA's certificate.
        var bundle = Path.Combine(Cluster.Root, "foreign-and-cluster-ca.crt");
        await File.WriteAllTextAsync(bundle, await File.ReadAllTextAsync(_fixture.Foreign.Client.Authority) + await File.ReadAllTextAsync(Cluster.Certificates!.Client.Authority));
        var trusting = await Cluster.CliAsAsync(new TlsFiles(_fixture.Foreign.Client.Certificate, _fixture.Foreign.Client.Key, bundle), "submit", Intruding("intruder-trusting"));
        AssertRefused(trusting, "the cluster refused this client's certificate");
        Assert.Equal(before, await SweepNamesAsync());
    }

    [Fact]
    public async Task A_silo_with_a_certificate_of_another_CA_never_joins_and_runs_no_trial()
    {
        var index = Cluster.AddSilo("intruder", _fixture.Foreign.Silo.ToTlsFiles());
        var intruder = Cluster.LaunchSilo(index);
        // Trials long enough to be running while the intruder tries to join (seconds of wall time, whatever the report lag).
        var sweep = new TestSweep("while-intruding", Ranks: 2, Steps: 5000, CheckpointEvery: 1000);
        await Cluster.SubmitAsync(sweep);

        var clock = Stopwatch.StartNew();
        var seen = new HashSet<string>();
        var workers = new HashSet<string>();
        // Orleans gives up on a silo that cannot reach the others after its probes fail (seconds to a minute or so,
        // by load); whatever it takes, the intruder must never be Active nor listed as a worker meanwhile.
        while (clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            var members = await _fixture.MembersAsync();
            foreach (var (name, status) in members) seen.Add($"{name}={status}");
            Assert.False(members.Any(m => m.Name == "intruder" && m.Status == SecureCluster.ActiveStatus), $"the intruder became Active: {string.Join(", ", members)}");
            var listed = await Cluster.CliAsync("workers", "--json");
            Assert.DoesNotContain("\"intruder\"", listed.Stdout);
            var trials = await Cluster.CliAsync("trials", sweep.Name, "--json");
            if (trials.ExitCode == 0) workers.UnionWith(CliJson.Parse<List<TrialRow>>(trials.Stdout).Select(t => t.Worker).OfType<string>());
            if (intruder.HasExited || members.Any(m => m.Name == "intruder" && m.Status == SecureCluster.DeadStatus)) break;
            await Task.Delay(500);
        }
        _output.WriteLine($"after {clock.Elapsed.TotalSeconds:0} s: intruder exited {intruder.HasExited}; membership seen: {string.Join(", ", seen)}");
        await Cluster.KillSiloAsync(index);
        Assert.Contains("not issued by the cluster's CA", ReadShared(Cluster.Silos[index].LogPath));

        var (finished, running) = await FinishedAsync(sweep.Name);
        workers.UnionWith(running);
        Assert.All(finished, t => Assert.True(t.Is("succeeded"), $"{t}"));
        Assert.NotEmpty(workers);
        Assert.All(workers, w => Assert.Matches("^silo-[01]/", w));
    }

    [Fact]
    public async Task A_silo_without_the_Redis_password_exits_4_saying_Redis_requires_one_and_a_wrong_one_is_named_too()
    {
        var tls = Cluster.Certificates!.Silo.ToTlsFiles();
        string[] Silo(string name) =>
        [
            "silo", "--cluster", Cluster.ClusterUri, "--slots", "1", "--data-dir", Path.Combine(Cluster.Root, name),
            "--silo-port", FreePort.Next().ToString(), "--gateway-port", FreePort.Next().ToString(), "--http-port", "0", "--name", name,
            .. FaultCluster.TlsArguments(tls),
        ];
        var storage = new Dictionary<string, string> { ["ORCHESTRATOR_STORAGE"] = Cluster.Azurite.ConnectionString, ["ORCHESTRATOR_REDIS_PASSWORD"] = "" };

        var none = await Cli.RunAsync(Silo("no-password"), Cluster.Root, TimeSpan.FromSeconds(60), storage);
        Assert.Equal(4, none.ExitCode);
        Assert.Contains($"Redis at {Cluster.Redis.Endpoint} requires a password", none.Stderr);
        Assert.DoesNotContain("   at ", none.Stderr + none.Stdout);

        var wrong = await Cli.RunAsync(Silo("wrong-password"), Cluster.Root, TimeSpan.FromSeconds(60), new Dictionary<string, string>(storage) { ["ORCHESTRATOR_REDIS_PASSWORD"] = "not-it" });
        Assert.Equal(4, wrong.ExitCode);
        Assert.Contains("refused the password", wrong.Stderr);
        Assert.DoesNotContain("not-it", wrong.Stderr);
    }

    /// <summary>Waits for every trial to end; also returns every worker seen running one (a finished trial no longer names it).</summary>
    private async Task<(IReadOnlyList<TrialRow> Trials, HashSet<string> Workers)> FinishedAsync(string sweep)
    {
        var workers = new HashSet<string>();
        var trials = await Cluster.WaitForTrialsAsync(sweep, $"sweep {sweep} finished", trials =>
        {
            workers.UnionWith(trials.Select(t => t.Worker).OfType<string>());
            return trials.Count > 0 && trials.All(t => t.IsTerminal);
        }, TimeSpan.FromMinutes(5));
        return (trials, workers);
    }

    /// <summary>A sweep file an intruder tries to submit.</summary>
    private string Intruding(string name) => new TestSweep(name, Ranks: 1, Steps: 10).WriteTo(Cluster.Root);

    private async Task<List<string>> SweepNamesAsync()
    {
        var status = await Cluster.CliAsync("status", "--json");
        Assert.True(status.ExitCode == 0, status.ToString());
        return CliJson.Parse<List<SweepStatusRow>>(status.Stdout).Select(s => s.Name).Order(StringComparer.Ordinal).ToList();
    }

    private static void AssertRefused(CliResult result, string message)
    {
        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains(message, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr + result.Stdout);
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return new StreamReader(stream).ReadToEnd();
    }
}
