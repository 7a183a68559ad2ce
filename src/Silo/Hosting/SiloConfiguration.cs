using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orchestrator.Grains;
using Orchestrator.Grains.Journal;
using Orchestrator.Grains.Scheduling;
using Orchestrator.Silo.Persistence;
using Orchestrator.Silo.Security;
using Orchestrator.Silo.Telemetry;
using Orchestrator.Silo.Training;
using Orchestrator.Models.Sharing;
using Orchestrator.Storage;
using Orchestrator.Trainer.Training;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Storage;
using Orleans.Runtime.MembershipService.SiloMetadata;
using StackExchange.Redis;

namespace Orchestrator.Silo.Hosting;

/// <summary>
/// The one place that decides embedded versus cluster. Used by the silo host, the CLI's in-process silo and the
/// test clusters alike, so what the tests run is what users run.
/// </summary>
public static class SiloConfiguration
{
    public const string AcceleratorMetadataKey = "hardware.accelerator";

    /// <param name="clustering">False when the caller (a test cluster) provides membership itself.</param>
    public static void Configure(ISiloBuilder silo, SiloHostOptions options, bool clustering = true)
    {
        var services = silo.Services;
        // Grains size trials for placement and packs with the trainer's estimator (they do not load TorchSharp themselves).
        Orchestrator.Grains.Scheduling.TrialMemoryEstimates.Use(Orchestrator.Trainer.Estimation.TrialMemoryEstimator.Instance);
        services.TryAddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<HeartbeatOptions>();
        // Fault tests (tests/Reliability.Tests) detect a killed worker in seconds rather than the default 30 s.
        if (Environment.GetEnvironmentVariable(Orchestrator.Contracts.Hosting.EnvironmentVariables.HeartbeatTimeoutSeconds) is { Length: > 0 } heartbeat
            && double.TryParse(heartbeat, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
            services.Configure<HeartbeatOptions>(o =>
            {
                o.HeartbeatTimeout = TimeSpan.FromSeconds(seconds);
                o.HeartbeatCheckInterval = TimeSpan.FromSeconds(Math.Min(o.HeartbeatCheckInterval.TotalSeconds, Math.Max(1, seconds / 3)));
            });
        services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);

        if (options.IsCluster)
        {
            // Membership is read from Redis every 10 s rather than every 60 s (one small read per silo): after every silo
            // of a deployment restarts at once (a preempted node pool), silos agree sooner that the old generation is gone.
            silo.Configure<ClusterMembershipOptions>(o => o.TableRefreshTimeout = TimeSpan.FromSeconds(10));
            // The same test knob shortens Orleans' own failure detection (probe timeout, 3 missed probes declare a silo dead), so grains
            // of a killed silo come back elsewhere in seconds; production keeps Orleans' defaults.
            if (Environment.GetEnvironmentVariable(Orchestrator.Contracts.Hosting.EnvironmentVariables.HeartbeatTimeoutSeconds) is { Length: > 0 } probe
                && double.TryParse(probe, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var probeSeconds) && probeSeconds > 0)
                silo.Configure<ClusterMembershipOptions>(o => o.ProbeTimeout = TimeSpan.FromSeconds(Math.Clamp(probeSeconds / 2, 1, o.ProbeTimeout.TotalSeconds)));

            var redis = options.Redis.Configuration();
            // Mutual TLS on every Orleans connection of a cluster: silo to silo and client to gateway. Embedded mode
            // stays plaintext on loopback.
            if (options.Tls is { } tls)
                silo.UseClusterTls(ClusterCredentials.Load(tls, CertificateRole.Silo));
            if (clustering)
            {
                silo.UseRedisClustering(o => o.ConfigurationOptions = redis.Clone());
                silo.Configure<ClusterOptions>(o => { o.ServiceId = options.ServiceId; o.ClusterId = options.ClusterId; });
                var address = options.AdvertisedAddress is { } ip ? IPAddress.Parse(ip) : IPAddress.Loopback;
                silo.ConfigureEndpoints(address, options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: options.AdvertisedAddress is not null);
            }
            silo.AddRedisGrainStorage(StorageNames.Orchestrator, o => o.ConfigurationOptions = redis.Clone());
            silo.UseRedisReminderService(o => o.ConfigurationOptions = redis.Clone());
            services.TryAddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redis.Clone()));
            services.TryAddSingleton<IEventJournal>(sp =>
                new RedisEventJournal(sp.GetRequiredService<IConnectionMultiplexer>(), $"orchestrator:{options.ServiceId}"));
        }
        else
        {
            if (clustering)
                silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, null, options.ServiceId, options.ClusterId);
            var state = Path.Combine(options.DataDir, "state");
            services.AddKeyedSingleton<IGrainStorage>(StorageNames.Orchestrator, (_, _) => new FileGrainStorage(Path.Combine(state, "grains")));
            silo.UseInMemoryReminderService();
            services.TryAddSingleton<IEventJournal>(_ => new FileEventJournal(Path.Combine(state, "journal")));
        }
        if (options.SiloName is { } name)
            silo.Configure<Orleans.Configuration.SiloOptions>(o => o.SiloName = name);
        silo.UseSiloMetadata(new Dictionary<string, string> { [AcceleratorMetadataKey] = options.Accelerator });

        services.TryAddSingleton<IArtifactStore>(_ => ArtifactStoreFactory.Create(options.ResolvedStorage, options.StorageContainer));
        services.TryAddSingleton<ITrialRunner, TorchTrialRunner>();
        services.TryAddSingleton<SiloMetrics>();
        services.TryAddSingleton(sp => new GrainCallResilience(logger: sp.GetService<Microsoft.Extensions.Logging.ILogger<GrainCallResilience>>()));
        services.TryAddSingleton<SharedBaseModels>();
        // Named models and datasets: the user's cache when embedded (what `models pull` filled), the data volume in a
        // cluster (a pod's home is read-only); shared between silos through the artifact store either way.
        services.TryAddSingleton<INamedResources>(sp => new NamedResourceFolders(sp.GetRequiredService<IArtifactStore>(),
            options.IsCluster ? Path.Combine(options.DataDir, "cache") : null));
        services.TryAddSingleton<AttemptLauncher>();
        services.TryAddSingleton<TrialArtifacts>();
        services.TryAddSingleton<SweepReports>();
        services.TryAddSingleton<WorkerHeartbeats>();
        services.AddHostedService<TrainerService>();
        if (options.Dashboard)
            Orleans.Dashboard.ServiceCollectionExtensions.AddDashboard(silo, _ => { });
    }
}
