using System.Diagnostics;
using Orchestrator.Silo.Hosting;

namespace Orchestrator.Orchestration.Tests;

/// <summary>The one pipeline for grain calls: what it retries, for how long, and a hung try given up.</summary>
public sealed class GrainCallResilienceTests
{
    private static readonly GrainCallResilience Fast = new(new GrainCallResilienceOptions
    {
        FirstRetryDelay = TimeSpan.FromMilliseconds(10),
        MaxRetryDelay = TimeSpan.FromMilliseconds(40),
        AttemptTimeout = TimeSpan.FromMilliseconds(500),
        RetryBudget = TimeSpan.FromSeconds(1),
    });

    [Fact]
    public async Task A_call_that_fails_transiently_twice_is_retried_until_it_succeeds()
    {
        var calls = 0;
        var result = await Fast.ExecuteAsync("test", _ => ++calls < 3 ? throw new TimeoutException("silo unavailable") : Task.FromResult(calls),
            CancellationToken.None);
        Assert.Equal(3, result);
    }

    [Fact]
    public async Task A_bad_argument_is_not_retried()
    {
        var calls = 0;
        await Assert.ThrowsAsync<ArgumentException>(() => Fast.ExecuteAsync("test", _ =>
        {
            calls++;
            throw new ArgumentException("bad");
        }, CancellationToken.None));
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task Retries_stop_when_the_budget_is_spent_and_the_last_error_surfaces()
    {
        var calls = 0;
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<InvalidOperationException>(() => Fast.ExecuteAsync("test", _ =>
        {
            calls++;
            throw new InvalidOperationException("still down");
        }, CancellationToken.None, budget: TimeSpan.FromMilliseconds(300)));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(3));
        Assert.True(calls > 2, $"{calls} calls");
    }

    [Fact]
    public async Task A_hung_try_is_cancelled_after_the_attempt_timeout_and_tried_again()
    {
        var calls = 0;
        var result = await Fast.ExecuteAsync("test", async ct =>
        {
            if (++calls == 1) await Task.Delay(Timeout.Infinite, ct);
            return calls;
        }, CancellationToken.None);
        Assert.Equal(2, result);
    }

    [Fact]
    public async Task The_caller_cancelling_ends_an_unbounded_retry()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Fast.ExecuteAsync("test",
            _ => Task.FromException<int>(new TimeoutException("gateway gone")), cancel.Token, GrainCallResilience.Unbounded));
    }
}
