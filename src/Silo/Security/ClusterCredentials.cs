using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orchestrator.Contracts.Hosting;

namespace Orchestrator.Silo.Security;

/// <summary>
/// A silo's or client's TLS identity (its certificate with the private key) and the authorities it trusts. A peer is
/// admitted when its certificate chains to one of those authorities (never to the system's trust store), is valid
/// now, is not on the deny list (<see cref="RevokedSerials"/>), and carries the usages of the role it claims
/// (<see cref="KeyUsages"/>).
/// </summary>
public sealed class ClusterCredentials : IDisposable
{
    private ClusterCredentials(X509Certificate2 certificate, X509Certificate2Collection authorities, RevokedSerials revoked)
    {
        Certificate = certificate;
        Authorities = authorities;
        Revoked = revoked;
    }

    public X509Certificate2 Certificate { get; }

    public X509Certificate2Collection Authorities { get; }

    /// <summary>Certificates the authorities signed that are refused all the same.</summary>
    public RevokedSerials Revoked { get; }

    /// <summary>Loads and checks the files: they exist, the key matches, and the certificate itself is one the authorities admit as <paramref name="role"/>.</summary>
    public static ClusterCredentials Load(TlsFiles files, CertificateRole role)
    {
        foreach (var (option, path) in new[] { (TlsFiles.CertificateOption, files.Certificate), (TlsFiles.KeyOption, files.Key), (TlsFiles.AuthorityOption, files.Authority) })
            if (path is not null && !File.Exists(path))
                throw new CertificateFileException($"{option} {path}: no such file");

        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(files.Authority);
        }
        catch (CryptographicException e)
        {
            throw new CertificateFileException($"{TlsFiles.AuthorityOption} {files.Authority} is not a PEM certificate: {e.Message}");
        }
        if (authorities.Count == 0)
            throw new CertificateFileException($"{TlsFiles.AuthorityOption} {files.Authority} holds no PEM certificate");

        X509Certificate2 certificate;
        try
        {
            certificate = files.IsPkcs12
                ? X509CertificateLoader.LoadPkcs12FromFile(files.Certificate, Environment.GetEnvironmentVariable(EnvironmentVariables.TlsPkcs12Password))
                : X509Certificate2.CreateFromPemFile(files.Certificate, files.Key);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            // ArgumentException: the key is not the certificate's ("... (Parameter 'privateKey')").
            var reason = (e is ArgumentException a && a.ParamName is { } name ? a.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : e.Message).Split('\n')[0];
            throw new CertificateFileException($"{TlsFiles.CertificateOption} {files.Certificate}{(files.Key is null ? "" : $" with {TlsFiles.KeyOption} {files.Key}")} cannot be loaded: {reason}");
        }
        if (!certificate.HasPrivateKey)
            throw new CertificateFileException($"{TlsFiles.CertificateOption} {files.Certificate} has no private key");

        RevokedSerials revoked;
        try
        {
            revoked = files.RevokedSerials is { } list ? RevokedSerials.Load(list) : RevokedSerials.None;
        }
        catch (CertificateFileException)
        {
            certificate.Dispose();
            throw;
        }
        var credentials = new ClusterCredentials(certificate, authorities, revoked);
        if (credentials.Problem(certificate, role) is { } problem)
        {
            credentials.Dispose();
            throw new CertificateFileException($"{TlsFiles.CertificateOption} {files.Certificate} cannot serve as a {role.ToString().ToLowerInvariant()} certificate: {problem}");
        }
        return credentials;
    }

    /// <summary>Null when <paramref name="peer"/> may act as <paramref name="role"/>; otherwise why not, in words.</summary>
    public string? Problem(X509Certificate2 peer, CertificateRole role)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var who = $"'{peer.Subject}' (issued by '{peer.Issuer}')";
        if (chain.Build(peer))
        {
            if (Revoked.Contains(peer)) return $"{who} has serial {peer.SerialNumber}, which {RevokedSerials.Option} {Revoked.Path} lists as revoked";
            return KeyUsages.Missing(peer, role) is { } missing ? $"{who}: {missing}" : null;
        }

        var status = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);
        if ((status & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain | X509ChainStatusFlags.NotSignatureValid)) != 0)
            return $"{who} is not issued by the cluster's CA";
        if ((status & X509ChainStatusFlags.NotTimeValid) != 0)
            return $"{who} is outside its validity ({peer.NotBefore:u} to {peer.NotAfter:u})";
        return $"{who} is not valid: {string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()))}";
    }

    public void Dispose()
    {
        Certificate.Dispose();
        foreach (var authority in Authorities) authority.Dispose();
    }
}
