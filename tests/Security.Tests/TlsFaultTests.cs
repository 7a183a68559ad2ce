using Xunit.Abstractions;

namespace Orchestrator.Security.Tests;

/// <summary>The fault suite's promise holds with mutual TLS on every connection and a Redis password.</summary>
public sealed class TlsFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task With_mutual_TLS_a_silo_killed_mid_trial_loses_and_duplicates_nothing()
    {
        await using var cluster = await FaultCluster.StartAsync(output, silos: 3, tls: true, redisPassword: "fault-pw-51c2");
        await KillOneSiloScenario.RunAsync(cluster, output);
    }
}
