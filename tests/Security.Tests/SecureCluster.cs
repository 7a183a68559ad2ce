using System.Text.Json;
using Orchestrator.TestServers;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Orchestrator.Security.Tests;

/// <summary>
/// One cluster for the tests of <see cref="SecureClusterTests"/>: redis-server with `requirepass`, Azurite, and two
/// silos that speak mutual TLS with certificates of a CA made for the run; secrets reach every process through
/// environment variables. Output goes to whichever test is running.
/// </summary>
public sealed class SecureCluster : IAsyncLifetime
{
    public const string RedisPassword = "redis-pw-7f3a9c";

    public ForwardingOutput Output { get; } = new();

    public FaultCluster Cluster { get; private set; } = null!;

    /// <summary>Certificates of another CA with the very same names: what an outsider could make.</summary>
    public NewClusterCertificates Foreign { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await FaultCluster.StartAsync(Output, silos: 2, tls: true, redisPassword: RedisPassword);
        Foreign = NewClusterCertificates.Create(Path.Combine(Cluster.Root, "foreign"), TimeSpan.FromDays(1));
    }

    public const int ActiveStatus = 3;
    public const int DeadStatus = 6;

    /// <summary>Orleans' membership table as the Redis clustering provider keeps it: silo name and status of each row.</summary>
    public async Task<List<(string Name, int Status)>> MembersAsync()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{Cluster.Redis.Endpoint},password={RedisPassword}");
        var rows = await redis.GetDatabase().HashGetAllAsync("lora-orchestrator/members/default");
        return rows.Where(r => r.Name != "Version")
            .Select(r => JsonDocument.Parse(r.Value.ToString()).RootElement)
            .Select(e => (e.GetProperty("SiloName").GetString() ?? "", e.GetProperty("Status").GetInt32()))
            .ToList();
    }

    public async Task DisposeAsync()
    {
        Output.Current = null; // no test is running any more: xunit refuses output now
        await Cluster.DisposeAsync();
    }
}

/// <summary>Test output for a fixture shared by several tests: each test points it at its own output.</summary>
public sealed class ForwardingOutput : ITestOutputHelper
{
    public ITestOutputHelper? Current { get; set; }

    public void WriteLine(string message) => Current?.WriteLine(message);

    public void WriteLine(string format, params object[] args) => Current?.WriteLine(format, args);
}
