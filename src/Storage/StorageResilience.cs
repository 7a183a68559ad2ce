using System.Diagnostics;
using System.Net.Sockets;
using Azure;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Orchestrator.Storage;

/// <summary>
/// Knobs of <see cref="StorageResilience"/>. The defaults ride out a 30 s storage outage: transient failures are
/// retried with exponential backoff (0.5 s doubling, capped at 5 s, jittered) for up to <see cref="RetryBudget"/>
/// (60 s) from the start of the call. Tests shrink every duration.
/// </summary>
public sealed record StorageResilienceOptions
{
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>No retry starts once this much time has passed since the call began.</summary>
    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Hard limit on one call, retries included; large enough for a multi-GB base model transfer.</summary>
    public TimeSpan TotalTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// The Azure SDK's per-request network timeout (time without progress on one request); a hung request fails
    /// with a timeout and is retried.
    /// </summary>
    public TimeSpan NetworkTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The circuit opens when this share of calls in <see cref="SamplingDuration"/> failed transiently...</summary>
    public double FailureRatio { get; init; } = 0.5;

    /// <summary>...and at least this many calls were made in that window.</summary>
    public int MinimumThroughput { get; init; } = 8;

    public TimeSpan SamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit fails calls fast before it lets one trial call through.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The one resilience pipeline for storage calls: total timeout ► retry (exponential backoff with jitter, transient
/// faults only, bounded by a time budget) ► circuit breaker. While the circuit is open calls fail fast with
/// <see cref="BrokenCircuitException"/>, which the retry treats as transient: callers wait out an outage without
/// hammering the service. The Azure SDK's own retries are switched off (see <see cref="ConfigureClient"/>) so that
/// this is the only retry loop.
/// </summary>
public sealed class StorageResilience
{
    private static readonly ResiliencePropertyKey<long> StartedAt = new("orchestrator.storage.started-at");

    private readonly CircuitBreakerStateProvider _circuit = new();

    public StorageResilience(StorageResilienceOptions? options = null)
    {
        Options = options ?? new StorageResilienceOptions();
        var retryBudget = Options.RetryBudget;
        Pipeline = new ResiliencePipelineBuilder()
            .AddTimeout(new TimeoutStrategyOptions { Timeout = Options.TotalTimeout })
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } e
                    && (e is BrokenCircuitException || IsTransient(e, args.Context.CancellationToken))
                    && Elapsed(args.Context) < retryBudget),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = Options.FirstRetryDelay,
                MaxDelay = Options.MaxRetryDelay,
                MaxRetryAttempts = int.MaxValue, // bounded by RetryBudget instead
                OnRetry = args =>
                {
                    Interlocked.Increment(ref _retries);
                    return ValueTask.CompletedTask;
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } e && IsTransient(e, args.Context.CancellationToken)),
                FailureRatio = Options.FailureRatio,
                MinimumThroughput = Options.MinimumThroughput,
                SamplingDuration = Options.SamplingDuration,
                BreakDuration = Options.BreakDuration,
                StateProvider = _circuit,
                OnOpened = _ =>
                {
                    Interlocked.Increment(ref _circuitOpenings);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    private long _retries;
    private long _circuitOpenings;

    public StorageResilienceOptions Options { get; }

    public ResiliencePipeline Pipeline { get; }

    /// <summary>Closed, Open, HalfOpen or Isolated: for health checks and tests.</summary>
    public CircuitState CircuitState => _circuit.CircuitState;

    /// <summary>Retries made so far, over every call.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Times the circuit has opened so far.</summary>
    public long CircuitOpenings => Interlocked.Read(ref _circuitOpenings);

    /// <summary>Runs <paramref name="operation"/> through the pipeline; it is called again on each retry.</summary>
    public async ValueTask<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> operation, CancellationToken ct)
    {
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(StartedAt, Stopwatch.GetTimestamp());
        try
        {
            return await Pipeline.ExecuteAsync(
                static (ctx, op) => op(ctx.CancellationToken), context, operation);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    public async ValueTask ExecuteAsync(Func<CancellationToken, ValueTask> operation, CancellationToken ct) =>
        await ExecuteAsync<bool>(async token =>
        {
            await operation(token);
            return true;
        }, ct);

    /// <summary>Azure SDK options that leave retrying to this pipeline.</summary>
    public void ConfigureClient(Azure.Storage.Blobs.BlobClientOptions options)
    {
        options.Retry.MaxRetries = 0;
        options.Retry.NetworkTimeout = Options.NetworkTimeout;
    }

    /// <summary>
    /// Faults worth retrying: server errors, throttling and request timeouts from the service, network failures, and
    /// timeouts (a cancellation the caller did not ask for).
    /// </summary>
    public static bool IsTransient(Exception exception, CancellationToken callerToken) => exception switch
    {
        RequestFailedException { Status: 408 or 429 or >= 500 } => true,
        // Status 0: no response at all; the SDK wraps the network failure.
        RequestFailedException { Status: 0 } e => e.InnerException is null || IsTransient(e.InnerException, callerToken),
        HttpRequestException => true,
        SocketException => true,
        TimeoutException or TimeoutRejectedException => true,
        OperationCanceledException => !callerToken.IsCancellationRequested,
        IOException e => e.InnerException is SocketException || e is HttpIOException
            || (e.InnerException is not null && IsTransient(e.InnerException, callerToken)),
        AggregateException e => e.InnerExceptions.Count > 0 && e.InnerExceptions.All(inner => IsTransient(inner, callerToken)),
        _ => false,
    };

    private static TimeSpan Elapsed(ResilienceContext context) =>
        context.Properties.TryGetValue(StartedAt, out var started)
            ? Stopwatch.GetElapsedTime(started)
            : TimeSpan.Zero;
}
