using System.Collections.Concurrent;

namespace Orchestrator.Grains.Scheduling;

/// <summary>
/// Memory a trial needs (weights, gradients, optimizer state, activations), used to pack trials onto workers.
/// Cached per shape: a sweep of 10,000 trials has a handful of distinct shapes. Counting a model takes the trainer,
/// which grains do not load: the silo host hands in the trainer's estimator once at start-up (<see cref="Use"/>);
/// without one every estimate is 0 (placed by `pack` alone, as a model only known at training time is).
/// </summary>
public static class TrialMemoryEstimates
{
    private static readonly ConcurrentDictionary<string, MemoryEstimate?> Cache = new();
    private static ITrialMemoryEstimator? _estimator;

    /// <summary>The estimator every silo of this process uses (the trainer's); set before the first grain activates.</summary>
    public static void Use(ITrialMemoryEstimator estimator)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        if (ReferenceEquals(Interlocked.Exchange(ref _estimator, estimator), estimator)) return;
        Cache.Clear();
    }

    public static long BytesFor(TrainingConfig config) => EstimateFor(config)?.TotalBytes ?? 0;

    /// <summary>The estimate by part, or null when the model is only known at training time (a user's folder) or no estimator is set.</summary>
    public static MemoryEstimate? EstimateFor(TrainingConfig config)
    {
        if (_estimator is not { } estimator) return null;
        var key = string.Join('|', config.Model, config.Adapter, config.Rank, string.Join(',', config.TargetModules),
            config.TargetModulesRegex, config.BatchSize, config.SequenceLength, config.Pooling);
        return Cache.GetOrAdd(key, _ =>
        {
            try { return estimator.Estimate(config); }
            catch (Exception) { return null; } // models only known at training time (a user's folder): not packed by memory
        });
    }
}
