using Orchestrator.Contracts.Hosting;

namespace Orchestrator.Silo.Security;

/// <summary>
/// Where a silo's or client's TLS identity lies: <c>--tls-cert</c> (PEM, or a PKCS#12 <c>.pfx</c>/<c>.p12</c> that
/// holds the key too), <c>--tls-key</c> (PEM; not with PKCS#12) and <c>--tls-ca</c> (PEM: the cluster's CA, or
/// several during a rotation), and optionally <c>--revoked-serials</c> (<see cref="Security.RevokedSerials"/>: peers
/// refused although the CA signed them). Each also reads its <c>ORCHESTRATOR_*</c> environment variable.
/// </summary>
public sealed record TlsFiles(string Certificate, string? Key, string Authority)
{
    /// <summary>The deny list of certificate serials (<see cref="Security.RevokedSerials"/>); null: none.</summary>
    public string? RevokedSerials { get; init; }

    public const string CertificateOption = "--tls-cert";
    public const string KeyOption = "--tls-key";
    public const string AuthorityOption = "--tls-ca";

    /// <summary>How to give a certificate, for error messages that tell the user what to pass.</summary>
    public const string Usage = $"{CertificateOption} FILE {KeyOption} FILE {AuthorityOption} FILE (or {EnvironmentVariables.TlsCertificate}, {EnvironmentVariables.TlsKey}, {EnvironmentVariables.TlsAuthority})";

    public bool IsPkcs12 => Certificate.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || Certificate.EndsWith(".p12", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The files given, or null when none is: TLS is off. Some but not all is a mistake, named in the exception.
    /// </summary>
    public static TlsFiles? From(string? certificate, string? key, string? authority, string? revokedSerials = null)
    {
        if (certificate is null && key is null && authority is null)
            return revokedSerials is null ? null
                : throw new CertificateFileException($"{Security.RevokedSerials.Option} {revokedSerials} needs TLS: pass {Usage} too");
        var pkcs12 = certificate is not null && new TlsFiles(certificate, key, "").IsPkcs12;
        var missing = new[] { (CertificateOption, certificate), (KeyOption, pkcs12 ? "" : key), (AuthorityOption, authority) }
            .Where(o => o.Item2 is null).Select(o => o.Item1).ToList();
        if (missing.Count > 0)
            throw new CertificateFileException($"TLS needs {CertificateOption}, {KeyOption} and {AuthorityOption} together; missing {string.Join(" and ", missing)}");
        if (pkcs12 && key is not null)
            throw new CertificateFileException($"{CertificateOption} {certificate} is PKCS#12 and holds its key: leave out {KeyOption}");
        return new TlsFiles(certificate!, key, authority!) { RevokedSerials = revokedSerials };
    }

    /// <summary>Reads the three <c>ORCHESTRATOR_TLS_*</c> variables and <c>ORCHESTRATOR_REVOKED_SERIALS</c>.</summary>
    public static TlsFiles? FromEnvironment(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        string? Get(string name) => read(name) is { Length: > 0 } v ? v : null;
        return From(Get(EnvironmentVariables.TlsCertificate), Get(EnvironmentVariables.TlsKey), Get(EnvironmentVariables.TlsAuthority), Get(EnvironmentVariables.RevokedSerials));
    }
}

/// <summary>A certificate option that cannot work (missing file, wrong key, another CA): one line, never a stack trace.</summary>
public sealed class CertificateFileException(string message) : Exception(message);
