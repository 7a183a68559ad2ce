using System.Globalization;
using System.Security.Cryptography.X509Certificates;

namespace Orchestrator.Silo.Security;

/// <summary>
/// A deny list of certificate serial numbers (<c>--revoked-serials FILE</c>): one hex serial per line, as
/// <c>openssl x509 -noout -serial</c> prints it (<c>serial=</c>, colons, spaces and leading zeros are ignored;
/// <c>#</c> starts a comment). Read once at startup. A peer whose certificate is listed is refused in the TLS
/// handshake like a stranger: the cluster's own CA cannot take back a certificate it signed, this list can.
/// </summary>
public sealed class RevokedSerials
{
    public const string Option = "--revoked-serials";

    public static readonly RevokedSerials None = new([], null);

    private readonly HashSet<string> _serials;

    private RevokedSerials(HashSet<string> serials, string? path)
    {
        _serials = serials;
        Path = path;
    }

    /// <summary>The file the list came from; null for <see cref="None"/>.</summary>
    public string? Path { get; }

    public int Count => _serials.Count;

    public bool Contains(X509Certificate2 certificate) => _serials.Contains(Normalized(certificate.SerialNumber));

    /// <summary>Reads <paramref name="path"/>; a missing file or a line that is not a hex serial is named in one line.</summary>
    public static RevokedSerials Load(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CertificateFileException($"{Option} {path}: {(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message)}");
        }
        var serials = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Split('#')[0].Trim();
            if (line.StartsWith("serial=", StringComparison.OrdinalIgnoreCase)) line = line["serial=".Length..];
            if (line.Length == 0) continue;
            var serial = Normalized(line);
            if (serial.Length == 0 || !serial.All(char.IsAsciiHexDigit))
                throw new CertificateFileException($"{Option} {path}:{(i + 1).ToString(CultureInfo.InvariantCulture)}: '{lines[i].Trim()}' is not a hex serial number");
            serials.Add(serial);
        }
        return new RevokedSerials(serials, path);
    }

    /// <summary>Upper case hex without separators or leading zeros: how both the file and <see cref="X509Certificate.SerialNumber"/> are compared.</summary>
    public static string Normalized(string serial)
    {
        var hex = new string(serial.Where(c => c is not (':' or ' ' or '\t' or '-')).ToArray()).ToUpperInvariant().TrimStart('0');
        return hex.Length == 0 && serial.Contains('0') ? "0" : hex;
    }
}
