using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Silo.Security;
using Orleans.Messaging;

namespace Orchestrator.Client.Connection;

/// <summary>
/// While a connect is slow, or after it failed: was the client refused, rather than the cluster unreachable? Redis may want a password,
/// the gateway's certificate may come from another CA than <c>--tls-ca</c>, or the gateway may speak TLS to a client
/// without a certificate (found by a TLS handshake of our own: a gateway that presents a certificate speaks TLS), or
/// nothing may listen at the gateway's address at all (a mistyped port: every probe's connection refused).
/// Null when nothing points at a refusal.
/// </summary>
internal static class ConnectionRefusal
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    /// <param name="probeRefusalIsAnswer">
    /// False while the client's own connect is only slow and no earlier probe was refused: then a probe that saw our
    /// certificate turned away is not yet taken as the answer (a loaded gateway can drop one probe too), only refusals
    /// that are certain are. True after the connect failed, or when the probe before this one was refused as well.
    /// </param>
    /// <returns>The refusal in words (null: nothing points at one), and whether this probe saw our certificate turned away.</returns>
    public static async Task<(string? Refusal, bool ProbeRefused)> ExplainAsync(IServiceProvider services, ClusterAddress address, ClusterCredentials? credentials,
        TlsRefusals refusals, bool probeRefusalIsAnswer, CancellationToken cancellationToken)
    {
        if (address.Kind == ClusterKind.Redis && await address.Redis().CredentialProblemAsync(ProbeTimeout) is { } redisProblem)
            return (redisProblem, false);
        if (refusals.Last is { } refused)
            return ($"the cluster's gateway is not one this client trusts ({refused}): is {TlsFiles.AuthorityOption} the cluster's CA?", false);

        var gateways = await GatewaysAsync(services, address);
        var closed = new List<IPEndPoint>();
        foreach (var gateway in gateways)
        {
            var (handshake, untrusted) = await HandshakeAsync(gateway, credentials, cancellationToken);
            if (handshake == Handshake.Closed) { closed.Add(gateway); continue; }
            // Decided by this probe, not by whichever of the client's own connection attempts failed first.
            if (untrusted is not null)
                return ($"the cluster's gateway is not one this client trusts ({untrusted}): is {TlsFiles.AuthorityOption} the cluster's CA?", false);
            if (handshake == Handshake.NotTls || (handshake == Handshake.Admitted && credentials is not null)) continue;
            if (credentials is not null && !probeRefusalIsAnswer) return (null, true);
            return (credentials is null
                ? $"the cluster requires a client certificate: pass {TlsFiles.Usage}"
                : $"the cluster refused this client's certificate '{credentials.Certificate.Subject}' (serial {credentials.Certificate.SerialNumber}, issued by '{credentials.Certificate.Issuer}'): " +
                  $"it admits only certificates issued by its own CA and not revoked ({RevokedSerials.Option}); ask its operator whether this one was", true);
        }
        // Nothing listens at any gateway: believed when the probe before this one found the same (a silo that is only
        // starting listens within a probe's interval), so a mistyped port is said in seconds instead of at the timeout.
        if (gateways.Count > 0 && closed.Count == gateways.Count)
            return probeRefusalIsAnswer
                ? ($"cannot reach the cluster at {address.Display}: nothing listens at {string.Join(", ", closed)} (connection refused); is the silo running, and is that its gateway port?", true)
                : (null, true);
        return (null, false);
    }

    private static async Task<IReadOnlyList<IPEndPoint>> GatewaysAsync(IServiceProvider services, ClusterAddress address)
    {
        if (address.Kind == ClusterKind.Gateway) return [address.GatewayEndPoint()];
        try
        {
            var provider = services.GetRequiredService<IGatewayListProvider>();
            await provider.InitializeGatewayListProvider().WaitAsync(ProbeTimeout);
            var gateways = await provider.GetGateways().WaitAsync(ProbeTimeout);
            return gateways.Select(g => IPAddress.TryParse(g.Host, out var ip) ? new IPEndPoint(ip, g.Port) : null).OfType<IPEndPoint>().Take(3).ToList();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return [];
        }
    }

    private enum Handshake { NotTls, Admitted, Refused, Closed }

    /// <summary>
    /// A TLS handshake of our own, with the client's certificate if it has one. A gateway that presents no
    /// certificate does not speak TLS. One that presents one and then aborts (TLS 1.2: in the handshake; TLS 1.3: with
    /// an alert right after it) refused us; one that waits for the Orleans preamble admitted us.
    /// </summary>
    /// <returns>What the gateway did, and why this client's CA does not vouch for the gateway's certificate (null when it does, or without credentials).</returns>
    private static async Task<(Handshake Outcome, string? Untrusted)> HandshakeAsync(IPEndPoint endpoint, ClusterCredentials? credentials, CancellationToken cancellationToken)
    {
        var presented = false;
        string? untrusted = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(endpoint, timeout.Token);
            await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = endpoint.Address.ToString(),
                ClientCertificates = credentials is null ? null : [credentials.Certificate],
                // Whether a certificate comes is all this asks; nothing is sent over this connection.
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    if (certificate is X509Certificate2 gateway && credentials is not null)
                        untrusted ??= credentials.Problem(gateway, CertificateRole.Silo);
                    return presented |= certificate is not null;
                },
            }, timeout.Token);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(TimeSpan.FromSeconds(1));
            try
            {
                return (await tls.ReadAsync(new byte[1], wait.Token) > 0 ? Handshake.Admitted : Handshake.Refused, untrusted);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return (Handshake.Admitted, untrusted);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return (Handshake.Closed, untrusted); // nothing listens there
        }
        catch (Exception e) when (e is IOException or SocketException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
        {
            return (presented && e is not SocketException and not OperationCanceledException ? Handshake.Refused : Handshake.NotTls, untrusted);
        }
    }
}
