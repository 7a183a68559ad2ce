using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Orchestrator.Dashboard.Security;

/// <summary>
/// The one rule for the API: when this process was given a token, every call (reads, file downloads, the event
/// stream and the mutations) must carry it as `Authorization: Bearer TOKEN`, compared in constant time. Only the
/// header counts, never a query parameter: a URL ends up in access logs, proxies and the browser's history. Without a
/// configured token the dashboard reads freely and refuses every mutation.
/// </summary>
public static class DashboardToken
{
    public enum Verdict { Allowed, ReadOnly, Unauthorized }

    /// <summary>What a mutation may do.</summary>
    public static Verdict Check(HttpRequest request, string? token)
    {
        if (string.IsNullOrEmpty(token)) return Verdict.ReadOnly;
        return Carries(request, token) ? Verdict.Allowed : Verdict.Unauthorized;
    }

    /// <summary>Whether a read may go ahead: always without a configured token, else only with it.</summary>
    public static bool MayRead(HttpRequest request, string? token) => string.IsNullOrEmpty(token) || Carries(request, token);

    private static bool Carries(HttpRequest request, string token)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        var offered = Encoding.UTF8.GetBytes(header[scheme.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(offered, Encoding.UTF8.GetBytes(token));
    }
}
