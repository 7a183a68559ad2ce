using System.Security.Cryptography;

namespace Orchestrator.Silo.Security;

/// <summary>
/// What a certificate of the cluster lets its holder be. A silo certificate carries both TLS usages (a silo accepts
/// connections and makes them); a client certificate carries only client authentication, so the certificate given
/// to a user lets them talk to a gateway but never join the cluster as a silo.
/// </summary>
public enum CertificateRole
{
    Silo,
    Client,
}

/// <summary>The extended key usages (RFC 5280) that tell the roles apart.</summary>
public static class KeyUsages
{
    public static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1", "Server Authentication");
    public static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    /// <summary>The usages a certificate issued for <paramref name="role"/> carries.</summary>
    public static OidCollection For(CertificateRole role) => role == CertificateRole.Silo
        ? [ServerAuthentication, ClientAuthentication]
        : [ClientAuthentication];

    /// <summary>The usage a peer must hold to act as <paramref name="role"/>: only silo certificates hold server authentication.</summary>
    public static Oid RequiredOf(CertificateRole role) => role == CertificateRole.Silo ? ServerAuthentication : ClientAuthentication;
}
