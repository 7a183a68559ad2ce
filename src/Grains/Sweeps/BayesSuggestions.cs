using System.Text.Json.Nodes;
using Orchestrator.Sweeps;
using Orchestrator.Sweeps.Search;

namespace Orchestrator.Grains.Sweeps;

/// <summary>
/// A bayes sweep's next suggestions, made from its ledger when a worker asks for work: TPE over the finished trials in
/// the order their results were journaled, with every queued or running trial counted as bad (so parallel slots get
/// different points). Suggestion n draws from a stream seeded by the sweep's seed and n, so the same seed and the
/// same results in the same order give the same suggestions. A suggestion of a point already tried is drawn again
/// with that point counted as bad too. The caller journals the events before leasing them.
/// </summary>
public static class BayesSuggestions
{
    /// <summary>Draws per suggestion before deciding the space has no untried point left.</summary>
    public const int Attempts = 32;

    public static IReadOnlyList<SweepEvent> Next(SweepLedger ledger, int count, DateTimeOffset at)
    {
        if (ledger.Settings is not { Search: { } search } settings || ledger.Sampler is not { } sampler) return [];
        var pending = ledger.Trials.Where(t => !t.IsTerminal).Select(ledger.ValuesOf).ToList();
        var ids = ledger.Trials.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        var events = new List<SweepEvent>();
        for (int number = ledger.Suggested; events.Count < count && number < ledger.RunCap; number++)
        {
            PlannedTrial? plan = null;
            for (int attempt = 0; attempt < Attempts && plan is null; attempt++)
            {
                var values = sampler.Suggest(new SplitMix64(StreamSeed(search.Seed, number, attempt)), pending);
                var trial = SweepExpander.PlanOf(search.Sweep, search.Seed, settings.Model, settings.Dataset, values);
                // Pending from here on either way: a point already tried counts as bad for the next draw, so TPE moves
                // off it instead of proposing it again.
                pending.Add(values.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal));
                if (!ids.Add(trial.TrialId)) continue;
                plan = PlannedTrial.Of(trial);
            }
            if (plan is null)
            {
                events.Add(new SearchExhausted(at, number));
                break;
            }
            events.Add(new TrialSuggested(at, number, plan));
        }
        return events;
    }

    private static ulong StreamSeed(long seed, int number, int attempt) =>
        unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ ((ulong)number + 1) * 0xBF58476D1CE4E5B9UL ^ ((ulong)attempt + 1) * 0x94D049BB133111EBUL);
}
