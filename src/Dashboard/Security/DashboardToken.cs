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

    /// <summary>
    /// Whether a page the browser opens by itself (the Orleans statistics dashboard at /dashboard, whose scripts send no
    /// bearer header) may be served: always without a configured token, else with the token as a bearer header or as
    /// HTTP Basic's password (any user name), which the browser asks for once after <see cref="BasicChallenge"/>.
    /// </summary>
    public static bool MayOpen(HttpRequest request, string? token) =>
        string.IsNullOrEmpty(token) || Carries(request, token) || CarriesAsPassword(request, token);

    /// <summary>The WWW-Authenticate value that makes a browser ask for a user name and password.</summary>
    public const string BasicChallenge = "Basic realm=\"orchestrator\", charset=\"UTF-8\"";

    private static bool CarriesAsPassword(HttpRequest request, string token)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Basic ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        byte[] decoded;
        try { decoded = Convert.FromBase64String(header[scheme.Length..].Trim()); }
        catch (FormatException) { return false; }
        var colon = Array.IndexOf(decoded, (byte)':');
        return colon >= 0 && CryptographicOperations.FixedTimeEquals(decoded.AsSpan(colon + 1), Encoding.UTF8.GetBytes(token));
    }

    private static bool Carries(HttpRequest request, string token)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        var offered = Encoding.UTF8.GetBytes(header[scheme.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(offered, Encoding.UTF8.GetBytes(token));
    }
}
