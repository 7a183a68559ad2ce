using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Orchestrator.Contracts.Hosting;
using Orchestrator.Dashboard;
using Orchestrator.Silo.Telemetry;

namespace Orchestrator.Silo.Hosting;

/// <summary>
/// Builds a silo host: Orleans configured by <see cref="SiloConfiguration"/>, plus (when HTTP is on) health
/// endpoints, `/metrics`, the sweep dashboard (`/`, `/api/`; src/Dashboard) and the opt-in Orleans dashboard (`/dashboard`). The container entrypoint and `./orchestrator silo` both use it.
/// </summary>
public static class SiloHost
{
    /// <summary>How long a starting silo waits for Redis to judge its credentials.</summary>
    private static readonly TimeSpan CredentialCheckTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// <see cref="Build"/>, after checking what a cluster silo cannot start without: Redis accepts its credentials.
    /// A silo without Redis' password stops here with one line instead of failing inside Orleans' membership.
    /// </summary>
    /// <exception cref="ClusterAccessException">Redis refused the silo.</exception>
    public static async Task<WebApplication> BuildAsync(SiloHostOptions options, Action<IServiceCollection>? configureServices = null, LogLevel logLevel = LogLevel.Warning)
    {
        options = options.Validated();
        if (options.IsCluster && await options.Redis.CredentialProblemAsync(CredentialCheckTimeout) is { } problem)
            throw new ClusterAccessException(problem);
        return Build(options, configureServices, logLevel);
    }

    public static WebApplication Build(SiloHostOptions options, Action<IServiceCollection>? configureServices = null, LogLevel logLevel = LogLevel.Warning)
    {
        options = options.Validated();
        Directory.CreateDirectory(options.DataDir);
        // torch's intra-op thread pool is process-wide: share the cores between the slots instead of oversubscribing them.
        Orchestrator.Trainer.Training.TorchThreads.ShareCoresBetween(options.Slots);
        // The content root is the binaries' folder, not the working directory: the host watches its content root for
        // configuration changes, recursively, and the embedded data directory (./.orchestrator) sits under the working
        // directory, so every artifact a trial wrote was an event for that watcher to read.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.SetMinimumLevel(logLevel);
        // Orleans is chatty at Information and warns about GC settings at start; the CLI shows errors only.
        builder.Logging.AddFilter("Orleans", logLevel >= LogLevel.Warning ? LogLevel.Error : LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft", logLevel >= LogLevel.Warning ? LogLevel.Error : LogLevel.Warning);
        // HTTP port 0 (the CLI's in-process silo): a free loopback port, which that process then publishes.
        builder.WebHost.UseUrls(options.HttpUrl);
        builder.UseOrleans(silo => SiloConfiguration.Configure(silo, options));
        configureServices?.Invoke(builder.Services);
        builder.Services.AddHealthChecks().AddCheck<SiloReadiness>("orleans", tags: ["ready"]);
        builder.Services.AddDashboard(new DashboardOptions { Token = options.DashboardToken, PollInterval = options.ProgressInterval });
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(SiloMetrics.MeterName));

        var app = builder.Build();
        app.MapHealthChecks(SiloEndpoints.LivePath, new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks(SiloEndpoints.StartupPath, new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
        app.MapHealthChecks(SiloEndpoints.ReadyPath, new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
        app.MapGet(SiloEndpoints.MetricsPath, (SiloMetrics metrics) => Results.Text(metrics.ToPrometheusText(), "text/plain; version=0.0.4"));
        app.MapDashboard();
        if (options.Dashboard)
        {
            // The Orleans statistics dashboard is behind the same token as ours: a browser cannot add a bearer header
            // to a page it opens, so it also takes the token as Basic's password and asks for it once.
            if (!string.IsNullOrEmpty(options.DashboardToken))
                app.UseWhen(c => c.Request.Path.StartsWithSegments(SiloEndpoints.OrleansDashboardPath), guarded => guarded.Use(async (context, next) =>
                {
                    if (Orchestrator.Dashboard.Security.DashboardToken.MayOpen(context.Request, options.DashboardToken))
                    {
                        await next(context);
                        return;
                    }
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers.WWWAuthenticate = Orchestrator.Dashboard.Security.DashboardToken.BasicChallenge;
                }));
            Orleans.Dashboard.ServiceCollectionExtensions.MapOrleansDashboard(app, SiloEndpoints.OrleansDashboardPath);
        }
        return app;
    }
}

/// <summary>The silo cannot use its cluster's Redis (a missing or wrong password): one line, exit 4.</summary>
public sealed class ClusterAccessException(string message) : Exception(message);

/// <summary>Ready once the silo has joined its cluster and is not shutting down.</summary>
public sealed class SiloReadiness(IHostApplicationLifetime lifetime, Orleans.Runtime.ILocalSiloDetails silo, IClusterClient client) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested) return HealthCheckResult.Unhealthy("stopping");
        if (!lifetime.ApplicationStarted.IsCancellationRequested) return HealthCheckResult.Unhealthy("starting");
        try
        {
            await client.GetGrain<Orchestrator.Contracts.Sweeps.ISchedulerGrain>(0).GetWorkerIdsAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return HealthCheckResult.Healthy($"silo {silo.Name} serving");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return HealthCheckResult.Unhealthy(e.Message);
        }
    }
}
