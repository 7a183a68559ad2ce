using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

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

    /// <summary>The usages a certificate issued for <paramref name="role"/> carries, and the usages one must carry to act as it.</summary>
    public static OidCollection For(CertificateRole role) => role == CertificateRole.Silo
        ? [ServerAuthentication, ClientAuthentication]
        : [ClientAuthentication];

    /// <summary>
    /// Null when <paramref name="certificate"/> names every usage of <paramref name="role"/>; otherwise why not, in
    /// words. Checked here rather than left to chain building: X.509 reads a certificate without the extension as
    /// valid for every usage, and a silo needs both, while a chain policy asks for any one of those listed.
    /// </summary>
    public static string? Missing(X509Certificate2 certificate, CertificateRole role)
    {
        var extension = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (extension is null)
            return "it carries no extended key usage; a cluster certificate must name its role " +
                   "(silo: server and client authentication; client: client authentication)";
        var held = extension.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value).ToHashSet(StringComparer.Ordinal);
        var missing = For(role).Cast<Oid>().Where(o => !held.Contains(o.Value)).Select(Name).ToList();
        if (missing.Count == 0) return null;
        return role == CertificateRole.Silo
            ? $"it is not a silo certificate (it lacks the {string.Join(" and ", missing)} usage)"
            : $"it lacks the {string.Join(" and ", missing)} usage";
    }

    private static string Name(Oid usage) => usage.Value == ServerAuthentication.Value ? "server authentication" : "client authentication";
}
