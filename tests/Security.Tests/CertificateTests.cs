using System.Security.Cryptography.X509Certificates;
using Orchestrator.TestServers;

namespace Orchestrator.Security.Tests;

/// <summary>`certs create` and the rule that decides who is admitted: a chain to the cluster's CA, and the right role.</summary>
public sealed class CertificateTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"orchestrator-certs-{Guid.NewGuid():N}");

    public void Dispose() => TempFolder.TryDelete(_root);

    private NewClusterCertificates Create(string name = "cluster", int days = 30) =>
        NewClusterCertificates.Create(Path.Combine(_root, name), TimeSpan.FromDays(days));

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Certs_create_writes_a_CA_a_silo_and_a_client_identity_in_cert_manager_file_names_with_owner_only_keys()
    {
        var result = await Cli.RunAsync(["certs", "create", "--out", Path.Combine(_root, "new"), "--days", "10"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var file in new[] { "ca/tls.crt", "ca/tls.key", "silo/tls.crt", "silo/tls.key", "silo/ca.crt", "client/tls.crt", "client/tls.key", "client/ca.crt" })
            Assert.True(File.Exists(Path.Combine(_root, "new", file)), $"{file} missing; {result}");
        foreach (var key in new[] { "ca/tls.key", "silo/tls.key", "client/tls.key" })
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_root, "new", key)));
        Assert.False(File.Exists(Path.Combine(_root, "new", "ca", "ca.crt")));

        using var silo = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_root, "new", "silo", "tls.crt"));
        Assert.InRange((silo.NotAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays, 9.9, 10.1);
        Assert.Equal(File.ReadAllText(Path.Combine(_root, "new", "ca", "tls.crt")), File.ReadAllText(Path.Combine(_root, "new", "silo", "ca.crt")));
    }

    [Fact]
    public async Task Certs_create_never_overwrites_an_existing_authority_and_exits_1()
    {
        Create("taken");
        var before = File.ReadAllText(Path.Combine(_root, "taken", "ca", "tls.key"));
        var result = await Cli.RunAsync(["certs", "create", "--out", Path.Combine(_root, "taken")]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("already exists", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.Equal(before, File.ReadAllText(Path.Combine(_root, "taken", "ca", "tls.key")));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("5000")]
    public async Task Certs_create_with_days_outside_1_to_3650_exits_1_naming_the_range(string days)
    {
        var result = await Cli.RunAsync(["certs", "create", "--out", Path.Combine(_root, "x"), "--days", days]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("use 1 to 3650", result.Stderr);
    }

    [Fact]
    public void A_silo_admits_silo_and_client_certificates_of_its_own_CA_in_their_roles()
    {
        var cluster = Create();
        using var silo = ClusterCredentials.Load(cluster.Silo.ToTlsFiles(), CertificateRole.Silo);
        using var client = ClusterCredentials.Load(cluster.Client.ToTlsFiles(), CertificateRole.Client);
        Assert.Null(silo.Problem(client.Certificate, CertificateRole.Client));
        Assert.Null(silo.Problem(silo.Certificate, CertificateRole.Silo));
        Assert.Null(client.Problem(silo.Certificate, CertificateRole.Silo));
    }

    [Fact]
    public void A_client_certificate_cannot_act_as_a_silo()
    {
        var cluster = Create();
        using var silo = ClusterCredentials.Load(cluster.Silo.ToTlsFiles(), CertificateRole.Silo);
        using var client = ClusterCredentials.Load(cluster.Client.ToTlsFiles(), CertificateRole.Client);
        Assert.Contains("not a silo certificate", silo.Problem(client.Certificate, CertificateRole.Silo));
        var e = Assert.Throws<CertificateFileException>(() => ClusterCredentials.Load(cluster.Client.ToTlsFiles(), CertificateRole.Silo));
        Assert.Contains("cannot serve as a silo certificate", e.Message);
    }

    [Fact]
    public void Certificates_of_another_CA_with_the_same_names_are_refused()
    {
        var cluster = Create("ours");
        var foreign = Create("theirs");
        using var ours = ClusterCredentials.Load(cluster.Silo.ToTlsFiles(), CertificateRole.Silo);
        using var theirs = ClusterCredentials.Load(foreign.Silo.ToTlsFiles(), CertificateRole.Silo);
        Assert.Equal(ours.Certificate.Subject, theirs.Certificate.Subject);
        Assert.Contains("not issued by the cluster's CA", ours.Problem(theirs.Certificate, CertificateRole.Silo));
        Assert.Contains("not issued by the cluster's CA", ours.Problem(theirs.Certificate, CertificateRole.Client));
    }

    [Fact]
    public void A_CA_file_with_the_old_and_the_new_authority_admits_both_during_a_rotation()
    {
        var old = Create("old");
        var next = Create("next");
        var bundle = Path.Combine(_root, "bundle.crt");
        File.WriteAllText(bundle, File.ReadAllText(old.Authority.Certificate) + File.ReadAllText(next.Authority.Certificate));
        using var silo = ClusterCredentials.Load(new TlsFiles(next.Silo.Certificate, next.Silo.Key, bundle), CertificateRole.Silo);
        using var oldClient = ClusterCredentials.Load(old.Client.ToTlsFiles(), CertificateRole.Client);
        using var newClient = ClusterCredentials.Load(next.Client.ToTlsFiles(), CertificateRole.Client);
        Assert.Null(silo.Problem(oldClient.Certificate, CertificateRole.Client));
        Assert.Null(silo.Problem(newClient.Certificate, CertificateRole.Client));
    }

    [Fact]
    public void An_expired_certificate_of_the_cluster_is_refused()
    {
        var past = new FixedClock(DateTimeOffset.UtcNow.AddDays(-40));
        using var ca = ClusterCertificateAuthority.Create("long-lived CA", TimeSpan.FromDays(100), past);
        using var expired = ca.Issue(CertificateRole.Client, "old-client", [], TimeSpan.FromDays(10), past);
        var folder = new CertificateFolder(Path.Combine(_root, "expired"));
        folder.Write(expired, ca.Certificate);
        var e = Assert.Throws<CertificateFileException>(() => ClusterCredentials.Load(folder.ToTlsFiles(), CertificateRole.Client));
        Assert.Contains("outside its validity", e.Message);
    }

    [Fact]
    public void Missing_files_and_a_key_that_does_not_match_are_named_in_one_line()
    {
        var cluster = Create("a");
        var other = Create("b");
        var missing = Assert.Throws<CertificateFileException>(() =>
            ClusterCredentials.Load(new TlsFiles(Path.Combine(_root, "nope.crt"), cluster.Silo.Key, cluster.Silo.Authority), CertificateRole.Silo));
        Assert.Contains("--tls-cert", missing.Message);
        Assert.Contains("no such file", missing.Message);
        var mismatched = Assert.Throws<CertificateFileException>(() =>
            ClusterCredentials.Load(new TlsFiles(cluster.Silo.Certificate, other.Silo.Key, cluster.Silo.Authority), CertificateRole.Silo));
        Assert.Contains("cannot be loaded", mismatched.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', mismatched.Message);
    }

    [Fact]
    public void A_PKCS12_certificate_brings_its_own_key()
    {
        var cluster = Create();
        using var pem = X509Certificate2.CreateFromPemFile(cluster.Silo.Certificate, cluster.Silo.Key);
        var pfx = Path.Combine(_root, "silo.pfx");
        File.WriteAllBytes(pfx, pem.Export(X509ContentType.Pkcs12));
        using var loaded = ClusterCredentials.Load(TlsFiles.From(pfx, null, cluster.Silo.Authority)!, CertificateRole.Silo);
        Assert.True(loaded.Certificate.HasPrivateKey);
        Assert.Equal(pem.Thumbprint, loaded.Certificate.Thumbprint);
    }

    [Fact]
    public void Tls_options_are_all_or_nothing()
    {
        Assert.Null(TlsFiles.From(null, null, null));
        var e = Assert.Throws<CertificateFileException>(() => TlsFiles.From("c.crt", null, "ca.crt"));
        Assert.Contains("missing --tls-key", e.Message);
        Assert.NotNull(TlsFiles.From("c.pfx", null, "ca.crt"));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
