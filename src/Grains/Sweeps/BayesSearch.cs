using Orchestrator.Sweeps;
using Orchestrator.Sweeps.Search;

namespace Orchestrator.Grains.Sweeps;

/// <summary>
/// What a bayes sweep's suggestions need, decided at submission and journaled: the sweep name and master seed (trial
/// ids and trainer seeds derive from them exactly as in a grid), the run cap at submission, and the search space.
/// </summary>
public sealed record BayesSearch(string Sweep, long Seed, int RunCap, SearchSpace Space)
{
    public static BayesSearch Of(SweepSpec spec) => new(spec.Name, spec.Seed, spec.RunCap, SearchSpace.Of(spec));
}
