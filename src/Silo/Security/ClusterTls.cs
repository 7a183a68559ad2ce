using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace Orchestrator.Silo.Security;

/// <summary>
/// Mutual TLS through Orleans' own transport middleware (<c>Microsoft.Orleans.Connections.Security</c>): every
/// connection presents a certificate and checks the other side's against the cluster's CA
/// (<see cref="ClusterCredentials.Problem"/>), not against the system's trust store. What each connection demands:
/// <list type="bullet">
/// <item>silo to silo, both ends: a silo certificate, so a user's client certificate cannot join as a silo;</item>
/// <item>client to gateway: the gateway holds a silo certificate, the client any certificate of the cluster.</item>
/// </list>
/// </summary>
public static class ClusterTls
{
    public static void UseClusterTls(this ISiloBuilder silo, ClusterCredentials credentials)
    {
        silo.Configure<SiloConnectionOptions>(connections =>
        {
            connections.ConfigureSiloInboundConnection(c => c.UseServerTls(Options(credentials, CertificateRole.Silo, Log(c.ApplicationServices), "silo port")));
            connections.ConfigureGatewayInboundConnection(c => c.UseServerTls(Options(credentials, CertificateRole.Client, Log(c.ApplicationServices), "gateway")));
            connections.ConfigureSiloOutboundConnection(c => c.UseClientTls(Options(credentials, CertificateRole.Silo, Log(c.ApplicationServices), "silo")));
        });
    }

    /// <param name="refusals">Records why a gateway's certificate was refused, so the CLI can say so.</param>
    public static void UseClusterTls(this IClientBuilder client, ClusterCredentials credentials, TlsRefusals? refusals = null)
    {
        client.Configure<ClientConnectionOptions>(connections =>
            connections.ConfigureConnection(c => c.UseClientTls(Options(credentials, CertificateRole.Silo, refusals, "gateway"))));
    }

    private static TlsRefusals? Log(IServiceProvider services) =>
        services.GetService(typeof(ILoggerFactory)) is ILoggerFactory factory ? new TlsRefusals(factory.CreateLogger(typeof(ClusterTls).FullName!)) : null;

    /// <param name="peerRole">The role the other end must hold.</param>
    private static TlsOptions Options(ClusterCredentials credentials, CertificateRole peerRole, TlsRefusals? refusals, string peer) => new()
    {
        LocalCertificate = credentials.Certificate,
        RemoteCertificateMode = RemoteCertificateMode.RequireCertificate,
        // Outbound: always present our certificate (Orleans' default only offers one it finds suitable).
        ClientCertificateMode = RemoteCertificateMode.RequireCertificate,
        RemoteCertificateValidation = (certificate, _, _) => Admit(credentials, certificate, peerRole, refusals, peer),
    };

    // The platform's verdict (policy errors) is ignored on purpose: it judges by the system's trust store and host
    // names, and the cluster's own CA is in neither. The chain to the cluster's CA and the role are what count.
    private static bool Admit(ClusterCredentials credentials, X509Certificate2 certificate, CertificateRole peerRole, TlsRefusals? refusals, string peer)
    {
        if (credentials.Problem(certificate, peerRole) is not { } problem) return true;
        refusals?.Refused(peer, problem);
        return false;
    }
}

/// <summary>Why TLS peers were refused: logged as a warning on a silo, kept for the message a client prints.</summary>
public sealed class TlsRefusals(ILogger? logger = null)
{
    private string? _last;

    /// <summary>The latest refusal, e.g. "gateway: 'CN=x' (issued by 'CN=y') is not issued by the cluster's CA".</summary>
    public string? Last => Volatile.Read(ref _last);

    public void Refused(string peer, string problem)
    {
        Volatile.Write(ref _last, $"{peer}: {problem}");
        logger?.LogWarning("TLS: refused a {Peer} connection: {Problem}", peer, problem);
    }
}
