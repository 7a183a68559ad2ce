using Orchestrator.Grains.Sweeps;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts.Hosting;
using Orchestrator.Contracts.Sweeps;
using Orchestrator.Silo.Hosting;
using Orchestrator.TestServers;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Orchestrator.Orchestration.Tests;

/// <summary>
/// The silo started the way the container starts it, with the environment deploy/k8s/base sets, joins a second
/// Redis-clustered silo on loopback and runs a sweep. The second silo is the container entrypoint itself
/// (`dotnet Orchestrator.Silo.dll`) in its own process.
/// </summary>
public sealed class RedisClusterSiloTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ServiceId = "orchestrator";
    private const string ClusterId = "orchestrator-test";
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"orchestration-redis-{Guid.NewGuid():N}");
    private RedisServer _redis = null!;
    private AzuriteServer _azurite = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        _redis = await RedisServer.StartAsync();
        _azurite = await AzuriteServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        await _azurite.DisposeAsync();
        SweepCluster.TryDelete(_root);
    }

    /// <summary>What deploy/k8s/base gives a silo: the orchestrator-config ConfigMap, the downward API and the storage Secret (a real Azurite's connection string).
    /// The manifests leave the ports at their defaults (one pod, one IP); two silos on one loopback need their own.</summary>
    private Dictionary<string, string> PodEnvironment(string pod) => new()
    {
        [EnvironmentVariables.Cluster] = $"redis://{_redis.Endpoint}",
        [EnvironmentVariables.StorageContainer] = "orchestrator",
        [EnvironmentVariables.Slots] = "1",
        [EnvironmentVariables.Device] = "cpu",
        [EnvironmentVariables.Accelerator] = "cpu",
        [EnvironmentVariables.Dashboard] = "true",
        [EnvironmentVariables.DataDir] = Path.Combine(_root, pod, "data"),
        [EnvironmentVariables.PodName] = pod,
        [EnvironmentVariables.PodIp] = "127.0.0.1",
        [EnvironmentVariables.PodNamespace] = "orchestrator",
        [EnvironmentVariables.ServiceId] = ServiceId,
        [EnvironmentVariables.ClusterId] = ClusterId,
        [EnvironmentVariables.Storage] = _azurite.ConnectionString,
        [EnvironmentVariables.SiloPort] = FreePort.Next().ToString(),
        [EnvironmentVariables.GatewayPort] = FreePort.Next().ToString(),
        [EnvironmentVariables.HttpPort] = FreePort.Next().ToString(),
    };

    [Fact]
    public async Task A_silo_started_like_the_container_joins_a_redis_clustered_silo_and_runs_a_sweep()
    {
        var repo = RepositoryRoot.Find();
        var env1 = PodEnvironment("orchestrator-silo-0");
        var env2 = PodEnvironment("orchestrator-silo-1");

        // Silo 1 in this process, built exactly as Program.cs builds it.
        var silo1 = SiloHost.Build(SiloHostOptions.FromEnvironment(name => env1.GetValueOrDefault(name)));
        await silo1.StartAsync();
        ChildProcess? silo2 = null;
        using var host = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            // Silo 2 is the container entrypoint in a process of its own.
            var entrypoint = Path.Combine(repo, "artifacts", "bin", "Silo", "release", "Orchestrator.Silo.dll");
            Assert.True(File.Exists(entrypoint), $"{entrypoint} is not built");
            var dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
            Directory.CreateDirectory(Path.Combine(_root, "orchestrator-silo-1"));
            silo2 = ChildProcess.Start("env", [.. env2.Select(kv => $"{kv.Key}={kv.Value}"), dotnet, entrypoint],
                Path.Combine(_root, "orchestrator-silo-1", "silo.log"), Path.Combine(_root, "orchestrator-silo-1"));

            async Task<bool> Ready(Dictionary<string, string> env, CancellationToken ct)
            {
                try
                {
                    using var response = await host.GetAsync($"http://127.0.0.1:{env[EnvironmentVariables.HttpPort]}{SiloEndpoints.ReadyPath}", ct);
                    return response.StatusCode == HttpStatusCode.OK;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return false; }
            }
            await silo2.WaitUntilReadyAsync(ct => Ready(env2, ct), TimeSpan.FromSeconds(60), CancellationToken.None);
            Assert.True(await Ready(env1, CancellationToken.None), "silo 1 is not ready");

            using var client = await StartClientAsync();
            var grains = client.Services.GetRequiredService<IClusterClient>();
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
            Assert.Equal(2, hosts.Count);

            var yaml = await File.ReadAllTextAsync(Path.Combine(repo, "sweeps", "mnist-smoke.yaml"));
            var sweep = grains.GetGrain<ISweepGrain>("mnist-smoke");
            var submitted = await sweep.SubmitAsync(yaml, "mnist-smoke.yaml");
            Assert.True(submitted.Accepted, submitted.Message);

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            SweepStatus status;
            while (!(status = await sweep.GetStatusAsync()).IsTerminal)
            {
                Assert.False(silo2.HasExited, $"silo 2 exited:\n{silo2.LogTail()}");
                Assert.True(DateTime.UtcNow < deadline, $"sweep not finished: {status}\n{silo2.LogTail()}");
                await Task.Delay(250);
            }
            output.WriteLine(status.ToString());
            Assert.Equal(SweepState.Finished, status.State);
            Assert.Equal(submitted.TrialCount, status.Succeeded);

            // Both silos' slots asked for work, and every result landed in the shared storage.
            var workers = await grains.GetGrain<ISchedulerGrain>(0).GetWorkerIdsAsync();
            Assert.Contains(workers, w => w.StartsWith("orchestrator-silo-0/", StringComparison.Ordinal));
            Assert.Contains(workers, w => w.StartsWith("orchestrator-silo-1/", StringComparison.Ordinal));
            // In the Blob container the ConfigMap names.
            var store = Orchestrator.Storage.ArtifactStoreFactory.Create(_azurite.ConnectionString, env1[EnvironmentVariables.StorageContainer]);
            var results = 0;
            await foreach (var blob in store.ListAsync("sweeps/mnist-smoke/trials/", CancellationToken.None))
                if (blob.Path.EndsWith("/result.json", StringComparison.Ordinal)) results++;
            Assert.Equal(submitted.TrialCount, results);

            await client.StopAsync();
        }
        finally
        {
            if (silo2 is not null)
            {
                await silo2.StopAsync(TimeSpan.FromSeconds(20));
                await silo2.DisposeAsync();
            }
            await silo1.StopAsync();
            await silo1.DisposeAsync();
        }
    }

    private async Task<IHost> StartClientAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(c =>
        {
            c.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(_redis.Endpoint));
            c.Configure<ClusterOptions>(o => { o.ServiceId = ServiceId; o.ClusterId = ClusterId; });
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
