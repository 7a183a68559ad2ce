using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Dashboard.Security;

/// <summary>
/// A dashboard without a token that listens beyond loopback lets anyone who reaches the port read every sweep,
/// trial and file: said once at startup, as a warning, so an operator sees it in the silo's log. A dashboard on
/// loopback only (the embedded `run`, the `dashboard` verb's default) stays quiet.
/// </summary>
public static class OpenDashboardWarning
{
    public static void WarnAtStartIfOpen(this WebApplication app, DashboardOptions options)
    {
        if (!string.IsNullOrEmpty(options.Token)) return;
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var exposed = app.Urls.Where(url => !IsLoopback(url)).ToList();
            if (exposed.Count == 0) return;
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DashboardEndpoints).FullName!).LogWarning(
                "The dashboard at {Urls} has no token: anyone who reaches it can read every sweep, trial and file; pause, resume and cancel are refused. " +
                "Give it --dashboard-token (or {Variable}) to require the token for every call.",
                string.Join(", ", exposed), DashboardOptions.TokenVariable);
        });
    }

    private static bool IsLoopback(string url)
    {
        if (!Uri.TryCreate(url.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri))
            return false;
        return uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }
}
