using System.Collections.Concurrent;
using Orchestrator.Trainer.Configuration;
using Orchestrator.Trainer.Estimation;

namespace Orchestrator.Grains.Scheduling;

/// <summary>
/// Memory a trial needs (weights, gradients, optimizer state, activations), used to pack trials onto workers.
/// Cached per shape: a sweep of 10,000 trials has a handful of distinct shapes.
/// </summary>
public static class TrialMemoryEstimates
{
    private static readonly ConcurrentDictionary<string, long> Cache = new();

    public static long BytesFor(TrainingConfig config)
    {
        var key = string.Join('|', config.Model, config.Adapter, config.Rank, string.Join(',', config.TargetModules),
            config.TargetModulesRegex, config.BatchSize, config.SequenceLength);
        return Cache.GetOrAdd(key, _ =>
        {
            try { return MemoryEstimator.Estimate(config).TotalBytes; }
            catch (Exception) { return 0; } // models only known at training time (a user's folder): not packed by memory
        });
    }
}
