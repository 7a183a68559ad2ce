using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Orchestrator.Silo.Security;

/// <summary>
/// A new cluster's own certificate authority (ECDSA P-256, SHA-256), made with .NET's <see cref="CertificateRequest"/>:
/// it signs the silo and client certificates, and peers accept each other only when their chain ends here.
/// </summary>
public sealed class ClusterCertificateAuthority : IDisposable
{
    /// <summary>Certificates start this long before "now", so a peer whose clock is a little behind accepts them.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private ClusterCertificateAuthority(X509Certificate2 certificate) => Certificate = certificate;

    /// <summary>The authority's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    public DateTimeOffset NotAfter => Certificate.NotAfter;

    public static ClusterCertificateAuthority Create(string name, TimeSpan validity, TimeProvider? clock = null)
    {
        var now = (clock ?? TimeProvider.System).GetUtcNow();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={name}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return new ClusterCertificateAuthority(request.CreateSelfSigned(now - ClockSkew, now + validity));
    }

    /// <summary>
    /// A certificate for <paramref name="role"/>, valid as long as the authority (or <paramref name="validity"/>, if
    /// shorter). Names are not what peers check (the chain and the role are), but they say in logs who is who.
    /// </summary>
    public X509Certificate2 Issue(CertificateRole role, string commonName, IEnumerable<string> dnsNames, TimeSpan validity, TimeProvider? clock = null)
    {
        var now = (clock ?? TimeProvider.System).GetUtcNow();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={commonName}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(KeyUsages.For(role), critical: false));
        if (dnsNames.ToList() is { Count: > 0 } listed)
        {
            var names = new SubjectAlternativeNameBuilder();
            foreach (var name in listed)
            {
                if (IPAddress.TryParse(name, out var ip)) names.AddIpAddress(ip);
                else names.AddDnsName(name);
            }
            request.CertificateExtensions.Add(names.Build());
        }
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number
        var notAfter = now + validity < Certificate.NotAfter ? now + validity : new DateTimeOffset(Certificate.NotAfter);
        using var issued = request.Create(Certificate, now - ClockSkew, notAfter, serial);
        return issued.CopyWithPrivateKey(key);
    }

    public void Dispose() => Certificate.Dispose();
}
