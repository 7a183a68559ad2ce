using System.Diagnostics;
using Xunit.Abstractions;

namespace Orchestrator.Security.Tests;

/// <summary>
/// The deny list with real processes: a silo started with <c>--revoked-serials</c> beside a TLS cluster refuses, at
/// its gateway, a client certificate the cluster's CA signed but the list names; the CLI exits 4 saying its
/// certificate was refused. The cluster's ordinary client certificate, not listed, still works there.
/// </summary>
public sealed class RevokedCertificateTests : IClassFixture<SecureCluster>
{
    private readonly SecureCluster _fixture;
    private readonly ITestOutputHelper _output;

    public RevokedCertificateTests(SecureCluster fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        fixture.Output.Current = output;
    }

    private FaultCluster Cluster => _fixture.Cluster;

    [Fact]
    public async Task A_revoked_client_certificate_is_refused_with_exit_4_and_an_unrevoked_one_connects()
    {
        var leaked = OddCertificates.Write(Cluster.Certificates!, Path.Combine(Cluster.Root, "leaked-client"), "leaked-client", [KeyUsages.ClientAuthentication]);
        using (var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(leaked.Certificate, leaked.Key))
        {
            // As `openssl x509 -noout -serial` prints it would do too; here lower case with colons, beside a comment.
            var serial = string.Join(':', certificate.SerialNumber.ToLowerInvariant().Chunk(2).Select(c => new string(c)));
            await File.WriteAllTextAsync(Path.Combine(Cluster.Root, "revoked-serials"), $"# leaked on a laptop\nserial={serial}\n");
        }
        var index = Cluster.AddSilo("guard", Cluster.Certificates!.Silo.ToTlsFiles() with { RevokedSerials = Path.Combine(Cluster.Root, "revoked-serials") });
        await Cluster.StartSiloAsync(index);
        var gateway = $"127.0.0.1:{Cluster.Silos[index].GatewayPort}";

        var clock = Stopwatch.StartNew();
        var refused = await Cli.RunAsync(["status", "--json", "--cluster", gateway, .. FaultCluster.TlsArguments(leaked)], Cluster.Root, environment: Cluster.SecretEnvironment);
        _output.WriteLine($"refused in {clock.Elapsed.TotalSeconds:0.0} s: {refused.Stderr.Trim()}");
        Assert.True(refused.ExitCode == 4, refused.ToString());
        Assert.Contains("the cluster refused this client's certificate 'CN=leaked-client'", refused.Stderr);
        Assert.Contains("not revoked", refused.Stderr);
        Assert.DoesNotContain("   at ", refused.Stderr + refused.Stdout);
        Assert.Contains("lists as revoked", ReadShared(Cluster.Silos[index].LogPath));

        var admitted = await Cli.RunAsync(["status", "--json", "--cluster", gateway, .. FaultCluster.TlsArguments(Cluster.Certificates.Client.ToTlsFiles())],
            Cluster.Root, environment: Cluster.SecretEnvironment);
        Assert.True(admitted.ExitCode == 0, admitted.ToString());
        await Cluster.KillSiloAsync(index);
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return new StreamReader(stream).ReadToEnd();
    }
}
