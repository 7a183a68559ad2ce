using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Orchestrator.Security.Tests;

/// <summary>
/// Certificates the cluster's own CA signed but `certs create` never issues: a chosen set of extended key usages, or
/// none at all (no extension). What a careless operator might sign with the cluster's CA key by hand.
/// </summary>
public static class OddCertificates
{
    /// <param name="usages">The extended key usages; null leaves the extension out.</param>
    public static X509Certificate2 Issue(X509Certificate2 authority, string commonName, Oid[]? usages)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={commonName}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        if (usages is not null)
        {
            var list = new OidCollection();
            foreach (var usage in usages) list.Add(usage);
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(list, critical: false));
        }
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        var now = DateTimeOffset.UtcNow;
        using var issued = request.Create(authority, now.AddMinutes(-5), authority.NotAfter.ToUniversalTime() < now.AddDays(1) ? authority.NotAfter : now.AddDays(1), serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Signs one with the CA of <paramref name="cluster"/> (its key on disk) and writes it to <paramref name="folder"/>.</summary>
    public static TlsFiles Write(NewClusterCertificates cluster, string folder, string commonName, Oid[]? usages)
    {
        using var authority = X509Certificate2.CreateFromPemFile(cluster.Authority.Certificate, cluster.Authority.Key);
        using var certificate = Issue(authority, commonName, usages);
        var target = new CertificateFolder(folder);
        target.Write(certificate, authority);
        return target.ToTlsFiles();
    }
}
