using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Orchestrator.Silo.Hosting;

/// <summary>
/// Knobs of <see cref="GrainCallResilience"/>. The defaults ride out what the fault tests inflict: a silo hosting
/// the sweep grain declared dead, Redis restarting, a client's gateway killed. Tests shrink them.
/// </summary>
public sealed record GrainCallResilienceOptions
{
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>One try of a call; a hung call (its silo gone without a word) is given up and tried again.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>No retry starts once this much time has passed since the call began (a call may ask for another).</summary>
    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// The one resilience pipeline for grain calls, from silos (reporting a trial's end, leasing) and clients (a watch
/// following its sweep): retry ► timeout per try. Transient faults (<see cref="IsTransient"/>) are retried with
/// exponential, jittered backoff until the call's budget is spent; the calls it carries are idempotent.
/// </summary>
public sealed class GrainCallResilience
{
    /// <summary>A budget that never runs out: retry until the caller cancels.</summary>
    public static readonly TimeSpan Unbounded = TimeSpan.MaxValue;

    private static readonly ResiliencePropertyKey<long> StartedAt = new("orchestrator.grain-call.started-at");
    private static readonly ResiliencePropertyKey<TimeSpan> Budget = new("orchestrator.grain-call.budget");
    private long _retries;

    public GrainCallResilience(GrainCallResilienceOptions? options = null, ILogger<GrainCallResilience>? logger = null)
    {
        Options = options ?? new GrainCallResilienceOptions();
        var defaultBudget = Options.RetryBudget;
        Pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } e
                    && IsTransient(e, args.Context.CancellationToken)
                    && Elapsed(args.Context) < (args.Context.Properties.TryGetValue(Budget, out var budget) ? budget : defaultBudget)),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = Options.FirstRetryDelay,
                MaxDelay = Options.MaxRetryDelay,
                MaxRetryAttempts = int.MaxValue, // bounded by the budget instead
                OnRetry = args =>
                {
                    Interlocked.Increment(ref _retries);
                    logger?.LogWarning("{Operation} failed ({Error}); retry {Retry} in {Delay} ms", args.Context.OperationKey,
                        args.Outcome.Exception?.Message.Split('\n')[0], args.AttemptNumber + 1, (int)args.RetryDelay.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(new TimeoutStrategyOptions { Timeout = Options.AttemptTimeout })
            .Build();
    }

    public GrainCallResilienceOptions Options { get; }

    public ResiliencePipeline Pipeline { get; }

    /// <summary>Retries made so far, over every call.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>
    /// Runs <paramref name="call"/> through the pipeline; it is called again on each retry with that try's token.
    /// </summary>
    /// <param name="operation">Names the call in logs ("trial t-1 attempt 2: report result").</param>
    /// <param name="budget">How long retries may go on; default <see cref="GrainCallResilienceOptions.RetryBudget"/>.</param>
    public async Task<T> ExecuteAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken,
        TimeSpan? budget = null)
    {
        var context = ResilienceContextPool.Shared.Get(operation, cancellationToken);
        context.Properties.Set(StartedAt, Stopwatch.GetTimestamp());
        context.Properties.Set(Budget, budget ?? Options.RetryBudget);
        try
        {
            return await Pipeline.ExecuteAsync(static async (ctx, op) => await op(ctx.CancellationToken), context, call);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    public Task ExecuteAsync(string operation, Func<CancellationToken, Task> call, CancellationToken cancellationToken, TimeSpan? budget = null) =>
        ExecuteAsync<bool>(operation, async token =>
        {
            await call(token);
            return true;
        }, cancellationToken, budget);

    /// <summary>
    /// Faults a retry can fix: the cluster's own (a silo declared dead, a rejected or timed-out message, a
    /// gateway gone, storage behind a grain restarting) and a try that timed out. Not: the caller cancelling,
    /// a bad argument, something not implemented, running out of memory.
    /// </summary>
    public static bool IsTransient(Exception exception, CancellationToken callerToken) => exception switch
    {
        OperationCanceledException => !callerToken.IsCancellationRequested,
        TimeoutRejectedException => true,
        ArgumentException or NotImplementedException or NotSupportedException or OutOfMemoryException => false,
        _ => true,
    };

    private static TimeSpan Elapsed(ResilienceContext context) =>
        context.Properties.TryGetValue(StartedAt, out var started) ? Stopwatch.GetElapsedTime(started) : TimeSpan.Zero;
}
