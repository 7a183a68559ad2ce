using System.Diagnostics;
using System.Net.Sockets;
using Azure;
using Orchestrator.TestServers;
using Polly.CircuitBreaker;

namespace Orchestrator.Storage.Tests;

/// <summary>Real outages: each test stops its own Azurite mid-call and starts it again on the same port.</summary>
public sealed class StorageOutageTests : IAsyncLifetime
{
    private static readonly StorageResilienceOptions Fast = new()
    {
        FirstRetryDelay = TimeSpan.FromMilliseconds(50),
        MaxRetryDelay = TimeSpan.FromMilliseconds(500),
        RetryBudget = TimeSpan.FromSeconds(30),
        TotalTimeout = TimeSpan.FromSeconds(60),
        NetworkTimeout = TimeSpan.FromSeconds(5),
        MinimumThroughput = 2,
        SamplingDuration = TimeSpan.FromSeconds(2),
        BreakDuration = TimeSpan.FromSeconds(1),
    };

    private AzuriteServer _azurite = null!;

    public async Task InitializeAsync() => _azurite = await AzuriteServer.StartAsync();

    public async Task DisposeAsync() => await _azurite.DisposeAsync();

    [Fact]
    public async Task A_write_started_while_Azurite_is_down_completes_once_it_is_back()
    {
        var resilience = new StorageResilience(Fast);
        var store = new BlobArtifactStore(_azurite.ConnectionString, "outage", resilience);
        await store.WriteTextAsync("before.json", "kept", default);

        await _azurite.StopAsync();
        var write = store.WriteTextAsync("sweeps/s/trials/t/result.json", "{\"ok\":true}", default);
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.False(write.IsCompleted);
        await _azurite.RestartAsync();
        var sha = await write.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("{\"ok\":true}", await store.ReadTextAsync("sweeps/s/trials/t/result.json", sha, default));
        Assert.Equal("kept", await store.ReadTextAsync("before.json", default));
        Assert.True(resilience.Retries > 0);
    }

    [Fact]
    public async Task The_circuit_opens_during_an_outage_and_closes_again_after_it()
    {
        var resilience = new StorageResilience(Fast);
        var store = new BlobArtifactStore(_azurite.ConnectionString, "circuit", resilience);
        await store.WriteTextAsync("warm.json", "x", default);
        Assert.Equal(CircuitState.Closed, resilience.CircuitState);

        await _azurite.StopAsync();
        var write = store.WriteTextAsync("during.json", "y", default);
        var waited = Stopwatch.StartNew();
        while (resilience.CircuitState != CircuitState.Open && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        Assert.Equal(CircuitState.Open, resilience.CircuitState);
        await _azurite.RestartAsync();
        await write.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(CircuitState.Closed, resilience.CircuitState);
        Assert.True(resilience.CircuitOpenings >= 1);
        Assert.Equal("y", await store.ReadTextAsync("during.json", default));
    }

    [Fact]
    public async Task When_the_outage_outlasts_the_retry_budget_the_call_fails_with_the_last_transient_error()
    {
        var resilience = new StorageResilience(Fast with { RetryBudget = TimeSpan.FromSeconds(1) });
        var store = new BlobArtifactStore(_azurite.ConnectionString, "budget", resilience);
        await store.WriteTextAsync("warm.json", "x", default);
        await _azurite.StopAsync();

        var elapsed = Stopwatch.StartNew();
        var e = await Assert.ThrowsAnyAsync<Exception>(() => store.WriteTextAsync("late.json", "y", default));

        Assert.True(StorageResilience.IsTransient(e, default) || e is BrokenCircuitException, e.ToString());
        Assert.InRange(elapsed.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_caller_cancellation_is_not_retried()
    {
        var store = new BlobArtifactStore(_azurite.ConnectionString, "cancel", new StorageResilience(Fast));
        await _azurite.StopAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var elapsed = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.WriteTextAsync("x.json", "x", cts.Token));
        Assert.InRange(elapsed.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }
}

public sealed class TransientFaultTests
{
    public static TheoryData<Exception, bool> Faults => new()
    {
        { new RequestFailedException(503, "busy"), true },
        { new RequestFailedException(500, "oops"), true },
        { new RequestFailedException(429, "slow down"), true },
        { new RequestFailedException(408, "timeout"), true },
        { new RequestFailedException("connection refused", new HttpRequestException("refused")), true },
        { new HttpRequestException("refused"), true },
        { new IOException("reset", new SocketException((int)SocketError.ConnectionReset)), true },
        { new TaskCanceledException("timed out"), true },
        { new RequestFailedException(404, "missing"), false },
        { new RequestFailedException(409, "exists"), false },
        { new RequestFailedException(403, "forbidden"), false },
        { new ArtifactCorruptException("p", "a", "b"), false },
        { new IOException("disk full"), false },
        { new InvalidOperationException(), false },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public void Only_transient_faults_are_retried(Exception fault, bool transient) =>
        Assert.Equal(transient, StorageResilience.IsTransient(fault, CancellationToken.None));

    [Fact]
    public void A_cancellation_the_caller_asked_for_is_not_transient()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.False(StorageResilience.IsTransient(new OperationCanceledException(cts.Token), cts.Token));
    }
}
