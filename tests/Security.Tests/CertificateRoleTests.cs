using System.Security.Cryptography.X509Certificates;

namespace Orchestrator.Security.Tests;

/// <summary>
/// The role rule on its own: a silo certificate names both TLS usages, a client certificate names client
/// authentication, and a certificate that names no usage at all is neither (X.509 would read it as "any usage").
/// </summary>
public sealed class CertificateRoleTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"orchestrator-roles-{Guid.NewGuid():N}");
    private readonly NewClusterCertificates _cluster;
    private readonly ClusterCredentials _silo;

    public CertificateRoleTests()
    {
        _cluster = NewClusterCertificates.Create(Path.Combine(_root, "cluster"), TimeSpan.FromDays(1));
        _silo = ClusterCredentials.Load(_cluster.Silo.ToTlsFiles(), CertificateRole.Silo);
    }

    public void Dispose()
    {
        _silo.Dispose();
        TempFolder.TryDelete(_root);
    }

    private TlsFiles Odd(string name, params System.Security.Cryptography.Oid[]? usages) =>
        OddCertificates.Write(_cluster, Path.Combine(_root, name), name, usages);

    private static X509Certificate2 Load(TlsFiles files) => X509Certificate2.CreateFromPemFile(files.Certificate, files.Key);

    [Fact]
    public void A_certificate_of_the_cluster_CA_with_only_server_authentication_is_not_a_silo_certificate()
    {
        var files = Odd("server-only", KeyUsages.ServerAuthentication);
        using var certificate = Load(files);
        Assert.Contains("not a silo certificate (it lacks the client authentication usage)", _silo.Problem(certificate, CertificateRole.Silo));
        var e = Assert.Throws<CertificateFileException>(() => ClusterCredentials.Load(files, CertificateRole.Silo));
        Assert.Contains("cannot serve as a silo certificate", e.Message);
        Assert.Contains("lacks the client authentication usage", e.Message);
    }

    [Fact]
    public void A_certificate_of_the_cluster_CA_without_any_extended_key_usage_serves_neither_as_silo_nor_as_client()
    {
        var files = Odd("no-usage", usages: null);
        using var certificate = Load(files);
        foreach (var role in new[] { CertificateRole.Silo, CertificateRole.Client })
        {
            Assert.Contains("carries no extended key usage", _silo.Problem(certificate, role));
            var e = Assert.Throws<CertificateFileException>(() => ClusterCredentials.Load(files, role));
            Assert.Contains($"cannot serve as a {role.ToString().ToLowerInvariant()} certificate", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Fact]
    public void A_certificate_with_only_server_authentication_is_not_a_client_certificate_either()
    {
        using var certificate = Load(Odd("server-only-client", KeyUsages.ServerAuthentication));
        Assert.Contains("lacks the client authentication usage", _silo.Problem(certificate, CertificateRole.Client));
    }

    [Fact]
    public void The_client_certificate_lacks_server_authentication_and_is_not_a_silo_certificate()
    {
        using var client = Load(_cluster.Client.ToTlsFiles());
        Assert.Contains("not a silo certificate (it lacks the server authentication usage)", _silo.Problem(client, CertificateRole.Silo));
        Assert.Null(_silo.Problem(client, CertificateRole.Client));
    }

    [Fact]
    public void A_hand_signed_certificate_with_both_usages_is_a_silo_certificate_and_may_also_connect_as_a_client()
    {
        var files = Odd("both", KeyUsages.ServerAuthentication, KeyUsages.ClientAuthentication);
        using var loaded = ClusterCredentials.Load(files, CertificateRole.Silo);
        Assert.Null(_silo.Problem(loaded.Certificate, CertificateRole.Silo));
        Assert.Null(_silo.Problem(loaded.Certificate, CertificateRole.Client));
    }
}
