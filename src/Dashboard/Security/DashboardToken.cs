using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Orchestrator.Dashboard.Security;

/// <summary>
/// The one rule for mutating calls: allowed only when this process was given a token and the request carries it as
/// `Authorization: Bearer TOKEN` (compared in constant time). Without a configured token the dashboard is read-only.
/// </summary>
public static class DashboardToken
{
    public enum Verdict { Allowed, ReadOnly, Unauthorized }

    public static Verdict Check(HttpRequest request, string? token)
    {
        if (string.IsNullOrEmpty(token)) return Verdict.ReadOnly;
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return Verdict.Unauthorized;
        var offered = Encoding.UTF8.GetBytes(header[scheme.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(offered, Encoding.UTF8.GetBytes(token)) ? Verdict.Allowed : Verdict.Unauthorized;
    }
}
