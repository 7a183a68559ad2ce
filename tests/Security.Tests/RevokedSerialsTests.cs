using System.Security.Cryptography.X509Certificates;

namespace Orchestrator.Security.Tests;

/// <summary>The deny list on its own: how the file is read, and that a listed certificate is refused in either role.</summary>
public sealed class RevokedSerialsTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"orchestrator-revoked-{Guid.NewGuid():N}");
    private readonly NewClusterCertificates _cluster;

    public RevokedSerialsTests()
    {
        _cluster = NewClusterCertificates.Create(Path.Combine(_root, "cluster"), TimeSpan.FromDays(1));
    }

    public void Dispose() => TempFolder.TryDelete(_root);

    private string List(params string[] lines)
    {
        var path = Path.Combine(_root, $"revoked-{Guid.NewGuid():N}");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static string Serial(CertificateFolder folder)
    {
        using var certificate = X509Certificate2.CreateFromPemFile(folder.Certificate, folder.Key);
        return certificate.SerialNumber;
    }

    [Fact]
    public void A_listed_client_certificate_is_refused_as_a_client_and_a_listed_silo_certificate_as_a_silo()
    {
        var list = List("# two leaked certificates", Serial(_cluster.Client), "", Serial(_cluster.Silo).ToLowerInvariant());
        using var guard = ClusterCredentials.Load(new TlsFiles(_cluster.Silo.Certificate, _cluster.Silo.Key, _cluster.Silo.Authority), CertificateRole.Silo);
        using var client = X509Certificate2.CreateFromPemFile(_cluster.Client.Certificate, _cluster.Client.Key);
        using var silo = X509Certificate2.CreateFromPemFile(_cluster.Silo.Certificate, _cluster.Silo.Key);
        var other = OddCertificates.Write(_cluster, Path.Combine(_root, "other"), "other", [KeyUsages.ServerAuthentication, KeyUsages.ClientAuthentication]);
        using var unlisted = X509Certificate2.CreateFromPemFile(other.Certificate, other.Key);
        using var denying = ClusterCredentials.Load(other with { RevokedSerials = list }, CertificateRole.Silo);

        Assert.Null(guard.Problem(client, CertificateRole.Client)); // without the list: admitted
        Assert.Contains("lists as revoked", denying.Problem(client, CertificateRole.Client));
        Assert.Contains($"serial {client.SerialNumber}", denying.Problem(client, CertificateRole.Client));
        Assert.Contains("lists as revoked", denying.Problem(silo, CertificateRole.Silo));
        Assert.Null(denying.Problem(unlisted, CertificateRole.Silo));
    }

    [Fact]
    public void A_silo_whose_own_certificate_is_listed_does_not_start()
    {
        var files = _cluster.Silo.ToTlsFiles() with { RevokedSerials = List(Serial(_cluster.Silo)) };
        var e = Assert.Throws<CertificateFileException>(() => ClusterCredentials.Load(files, CertificateRole.Silo));
        Assert.Contains("lists as revoked", e.Message);
    }

    [Fact]
    public void Serials_are_read_as_openssl_prints_them_with_colons_any_case_and_leading_zeros_and_comments()
    {
        var revoked = RevokedSerials.Load(List("serial=0A:1B:2c", "  00ff  # trailing comment", "# only a comment", "", "DEAD-BEEF"));
        Assert.Equal(3, revoked.Count);
        Assert.Equal("A1B2C", RevokedSerials.Normalized("0a:1b:2C"));
        Assert.Equal("FF", RevokedSerials.Normalized("00FF"));
        Assert.Equal("0", RevokedSerials.Normalized("00"));
    }

    [Fact]
    public void A_line_that_is_not_hex_and_a_missing_file_are_named_in_one_line()
    {
        var path = List("0A1B", "not-a-serial");
        var bad = Assert.Throws<CertificateFileException>(() => RevokedSerials.Load(path));
        Assert.Contains($"--revoked-serials {path}:2", bad.Message);
        Assert.Contains("is not a hex serial number", bad.Message);
        var missing = Assert.Throws<CertificateFileException>(() => RevokedSerials.Load(Path.Combine(_root, "nope")));
        Assert.Contains("no such file", missing.Message);
    }

    [Fact]
    public void The_list_comes_from_the_option_or_ORCHESTRATOR_REVOKED_SERIALS_and_needs_TLS()
    {
        var e = Assert.Throws<CertificateFileException>(() => TlsFiles.From(null, null, null, "revoked.txt"));
        Assert.Contains("needs TLS", e.Message);
        var environment = new Dictionary<string, string>
        {
            ["ORCHESTRATOR_TLS_CERT"] = "c.crt", ["ORCHESTRATOR_TLS_KEY"] = "c.key", ["ORCHESTRATOR_TLS_CA"] = "ca.crt",
            ["ORCHESTRATOR_REVOKED_SERIALS"] = "/etc/orchestrator/revoked/serials",
        };
        Assert.Equal("/etc/orchestrator/revoked/serials", TlsFiles.FromEnvironment(n => environment.GetValueOrDefault(n))!.RevokedSerials);
    }
}
