using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Orchestrator.Silo.Security;

/// <summary>
/// One identity on disk, with the file names cert-manager writes into a Kubernetes TLS Secret: <c>tls.crt</c>,
/// <c>tls.key</c> (PKCS#8 PEM, owner read/write only) and <c>ca.crt</c>. A folder is what one Secret holds, so
/// <c>kubectl create secret generic NAME --from-file=FOLDER</c> turns it into one.
/// </summary>
public sealed record CertificateFolder(string Path)
{
    public const string CertificateFile = "tls.crt";
    public const string KeyFile = "tls.key";
    public const string AuthorityFile = "ca.crt";

    public string Certificate => System.IO.Path.Combine(Path, CertificateFile);
    public string Key => System.IO.Path.Combine(Path, KeyFile);
    public string Authority => System.IO.Path.Combine(Path, AuthorityFile);

    /// <summary>The files <see cref="Write"/> creates (the CA's own folder has no ca.crt).</summary>
    public IEnumerable<string> Files(bool withAuthority) => withAuthority ? [Certificate, Key, Authority] : [Certificate, Key];

    /// <summary>The options that point a silo or client at this folder.</summary>
    public TlsFiles ToTlsFiles() => new(Certificate, Key, Authority);

    /// <summary>Writes the certificate, its private key and (unless null) the authority's certificate; never overwrites.</summary>
    public void Write(X509Certificate2 certificate, X509Certificate2? authority)
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(Path);
        else Directory.CreateDirectory(Path, UnixFileMode.UserRead | UserWriteExecute);
        WriteText(Key, PrivateKeyPem(certificate), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        WriteText(Certificate, certificate.ExportCertificatePem() + "\n", PublicFile);
        if (authority is not null) WriteText(Authority, authority.ExportCertificatePem() + "\n", PublicFile);
    }

    private const UnixFileMode UserWriteExecute = UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PublicFile = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private static string PrivateKeyPem(X509Certificate2 certificate)
    {
        using var key = certificate.GetECDsaPrivateKey() as AsymmetricAlgorithm ?? certificate.GetRSAPrivateKey()
            ?? throw new InvalidOperationException($"{certificate.Subject} has no private key");
        return key.ExportPkcs8PrivateKeyPem() + "\n";
    }

    private static void WriteText(string path, string text, UnixFileMode mode)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = mode;
        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(text);
    }
}
