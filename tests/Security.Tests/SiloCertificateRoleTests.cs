using Orchestrator.Contracts.Hosting;
using System.Diagnostics;
using System.Security.Cryptography;
using Xunit.Abstractions;

namespace Orchestrator.Security.Tests;

/// <summary>
/// Certificates of the cluster's own CA that are not silo certificates, each given to a real `orchestrator silo`
/// beside a running TLS cluster: it stops at once with one line and a non-zero exit, and meanwhile never becomes
/// Active, never runs a trial and never appears in `workers`.
/// </summary>
public sealed class SiloCertificateRoleTests : IClassFixture<SecureCluster>
{
    private readonly SecureCluster _fixture;
    private readonly ITestOutputHelper _output;

    public SiloCertificateRoleTests(SecureCluster fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        fixture.Output.Current = output;
    }

    private FaultCluster Cluster => _fixture.Cluster;

    [Fact]
    public async Task A_silo_with_a_cluster_CA_certificate_holding_only_server_authentication_never_joins()
    {
        var tls = OddCertificates.Write(Cluster.Certificates!, Path.Combine(Cluster.Root, "server-only"), "server-only", [KeyUsages.ServerAuthentication]);
        await AssertNeverJoinsAsync("server-only", tls, "lacks the client authentication usage");
    }

    [Fact]
    public async Task A_silo_with_the_client_certificate_never_joins()
    {
        await AssertNeverJoinsAsync("with-client-cert", Cluster.Certificates!.Client.ToTlsFiles(), "lacks the server authentication usage");
    }

    [Fact]
    public async Task A_silo_with_a_cluster_CA_certificate_without_any_extended_key_usage_never_joins()
    {
        var tls = OddCertificates.Write(Cluster.Certificates!, Path.Combine(Cluster.Root, "no-usage"), "no-usage", usages: null);
        await AssertNeverJoinsAsync("no-usage", tls, "carries no extended key usage");
    }

    private async Task AssertNeverJoinsAsync(string name, TlsFiles tls, string reason)
    {
        // Trials long enough to be queued or running while the silo tries to start.
        var sweep = new TestSweep($"while-{name}", Ranks: 2, Steps: 400, CheckpointEvery: 200);
        await Cluster.SubmitAsync(sweep);
        var run = Cli.RunAsync(
        [
            "silo", "--cluster", Cluster.ClusterUri, "--slots", "1", "--data-dir", Path.Combine(Cluster.Root, name),
            "--silo-port", FreePort.Next().ToString(), "--gateway-port", FreePort.Next().ToString(), "--http-port", "0", "--name", name,
            .. FaultCluster.TlsArguments(tls),
        ], Cluster.Root, TimeSpan.FromSeconds(90), Cluster.SecretEnvironment);

        var clock = Stopwatch.StartNew();
        var workers = new HashSet<string>();
        try
        {
            while (!run.IsCompleted)
            {
                var members = await _fixture.MembersAsync();
                Assert.False(members.Any(m => m.Name == name && m.Status == SecureCluster.ActiveStatus), $"{name} became Active: {string.Join(", ", members)}");
                var listed = await Cluster.CliAsync("workers", "--json");
                Assert.DoesNotContain($"\"{name}", listed.Stdout);
                var trials = await Cluster.CliAsync("trials", sweep.Name, "--json");
                if (trials.ExitCode == 0) workers.UnionWith(CliJson.Parse<List<TrialRow>>(trials.Stdout).Select(t => t.Worker).OfType<string>());
                await Task.WhenAny(run, Task.Delay(500));
            }
        }
        finally
        {
            // A silo that did start (the rule broken) is killed at the run's timeout rather than outliving a failed test.
            if (!run.IsCompleted) await run;
        }
        var result = await run;
        _output.WriteLine($"{name}: exit {result.ExitCode} after {clock.Elapsed.TotalSeconds:0.0} s: {result.Stderr.Trim()}");

        Assert.True(result.ExitCode > 0, result.ToString()); // -1 would be the timeout: the silo ran
        Assert.Contains("cannot serve as a silo certificate", result.Stderr);
        Assert.Contains(reason, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr + result.Stdout);
        Assert.DoesNotContain((await _fixture.MembersAsync()).Select(m => m.Name), n => n == name);

        var finished = await Cluster.WaitFinishedAsync(sweep.Name, TimeSpan.FromMinutes(5));
        workers.UnionWith(finished.Select(t => t.Worker).OfType<string>());
        Assert.All(finished, t => Assert.True(t.Is("succeeded"), $"{t}"));
        Assert.All(workers, w => Assert.Matches("^silo-[01]/", w));
    }
}
