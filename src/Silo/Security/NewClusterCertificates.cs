namespace Orchestrator.Silo.Security;

/// <summary>
/// What <c>orchestrator certs create --out DIR</c> writes: a new cluster's authority and one silo and one client
/// identity, each in its own <see cref="CertificateFolder"/>:
/// <code>
/// DIR/ca/tls.crt, tls.key                  the authority (keep tls.key offline; it signs new certificates)
/// DIR/silo/tls.crt, tls.key, ca.crt        every silo (server and client authentication)
/// DIR/client/tls.crt, tls.key, ca.crt      users and the submit Job (client authentication only)
/// </code>
/// </summary>
public sealed record NewClusterCertificates(CertificateFolder Authority, CertificateFolder Silo, CertificateFolder Client, DateTimeOffset NotAfter)
{
    public const string AuthorityName = "lora-orchestrator cluster CA";

    /// <summary>The names a silo certificate carries; peers do not check them, people reading logs do.</summary>
    public static readonly IReadOnlyList<string> SiloNames = ["orchestrator-silo", "orchestrator-gateway", "localhost", "127.0.0.1"];

    public static NewClusterCertificates Layout(string directory) => new(
        new CertificateFolder(Path.Combine(directory, "ca")),
        new CertificateFolder(Path.Combine(directory, "silo")),
        new CertificateFolder(Path.Combine(directory, "client")),
        default);

    /// <summary>The files that would be written, for a check that none exists yet.</summary>
    public IEnumerable<string> Files => Authority.Files(withAuthority: false).Concat(Silo.Files(true)).Concat(Client.Files(true));

    /// <summary>Creates the three identities under <paramref name="directory"/>, valid for <paramref name="validity"/>; refuses to overwrite any file.</summary>
    public static NewClusterCertificates Create(string directory, TimeSpan validity, TimeProvider? clock = null)
    {
        var layout = Layout(Path.GetFullPath(directory));
        if (layout.Files.FirstOrDefault(File.Exists) is { } existing)
            throw new IOException($"{existing} already exists; certificates are never overwritten (choose another folder, or delete it to start a new authority)");

        using var authority = ClusterCertificateAuthority.Create(AuthorityName, validity, clock);
        using var silo = authority.Issue(CertificateRole.Silo, "orchestrator-silo", SiloNames, validity, clock);
        using var client = authority.Issue(CertificateRole.Client, "orchestrator-client", [], validity, clock);
        layout.Authority.Write(authority.Certificate, authority: null);
        layout.Silo.Write(silo, authority.Certificate);
        layout.Client.Write(client, authority.Certificate);
        return layout with { NotAfter = authority.NotAfter };
    }
}
