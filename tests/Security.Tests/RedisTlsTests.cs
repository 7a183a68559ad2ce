using Orchestrator.Contracts.Hosting;
using Orchestrator.Silo.Hosting;
using Orchestrator.TestServers;
using StackExchange.Redis;

namespace Orchestrator.Security.Tests;

/// <summary>`rediss://` (StackExchange.Redis `ssl=true`) against a real redis-server with TLS, its certificate checked against `--tls-ca`.</summary>
public sealed class RedisTlsTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"orchestrator-redis-tls-{Guid.NewGuid():N}");
    private NewClusterCertificates _cluster = null!;
    private ChildProcess _redis = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        _cluster = NewClusterCertificates.Create(Path.Combine(_root, "cluster"), TimeSpan.FromDays(1));
        _port = FreePort.Next();
        // The silo certificate serves (server authentication, 127.0.0.1 among its names); clients need no certificate.
        _redis = ChildProcess.Start("redis-server",
        [
            "--port", "0", "--tls-port", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "",
            "--tls-cert-file", _cluster.Silo.Certificate, "--tls-key-file", _cluster.Silo.Key, "--tls-ca-cert-file", _cluster.Silo.Authority,
            "--tls-auth-clients", "no",
        ], Path.Combine(_root, "redis.log"), _root);
        await _redis.WaitUntilReadyAsync(async _ => await PingAsync(_cluster.Silo.Authority), TimeSpan.FromSeconds(30), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        TempFolder.TryDelete(_root);
    }

    [Fact]
    public async Task A_rediss_address_connects_when_the_cluster_CA_issued_Redis_certificate_and_fails_when_another_CA_did()
    {
        Assert.True(await PingAsync(_cluster.Silo.Authority));
        Assert.Null(await RedisConnection.Parse($"rediss://127.0.0.1:{_port}", null, _cluster.Silo.Authority).CredentialProblemAsync(TimeSpan.FromSeconds(5)));

        var foreign = NewClusterCertificates.Create(Path.Combine(_root, "foreign"), TimeSpan.FromDays(1));
        Assert.False(await PingAsync(foreign.Silo.Authority));
    }

    private async Task<bool> PingAsync(string authority)
    {
        var options = RedisConnection.Parse($"rediss://127.0.0.1:{_port}", password: null, trustedAuthority: authority).Configuration();
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 3000;
        try
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
            await connection.GetDatabase().PingAsync();
            return true;
        }
        catch (RedisConnectionException)
        {
            return false;
        }
    }
}
