namespace Orchestrator.Grains.Sweeps;

/// <summary>
/// The sweep grain's submission: a typed <see cref="SweepPlan"/>, checked and journaled as it came. It lives beside the
/// plan (in Grains, not Contracts) because the plan's records are the journal's; the same grain, keyed by the sweep's
/// name, answers <see cref="ISweepGrain"/>.
/// </summary>
[Alias("sweep-plan")]
public interface ISweepPlanGrain : IGrainWithStringKey
{
    /// <summary>Starts the sweep, or (same spec, higher run_cap) adds trials to it. A different spec under the same name is refused.</summary>
    [Alias("submit")] Task<SubmitResult> SubmitAsync(SweepPlan plan, CancellationToken cancellationToken = default);
}
