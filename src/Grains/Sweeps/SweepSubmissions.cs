using Orchestrator.Sweeps;

namespace Orchestrator.Grains.Sweeps;

/// <summary>
/// Submitting a sweep: the file is parsed and planned here, on the caller's side, by the one parser, and the grain
/// receives the plan. A file that does not validate is refused with its message, as the grain refuses a plan.
/// </summary>
public static class SweepSubmissions
{
    public static Task<SubmitResult> SubmitAsync(this IGrainFactory grains, SweepSpec spec, CancellationToken cancellationToken = default) =>
        grains.GetGrain<ISweepPlanGrain>(spec.Name).SubmitAsync(SweepPlan.Of(spec), cancellationToken);

    /// <summary>Parses <paramref name="yamlText"/> (named <paramref name="fileName"/> in messages) and submits its plan under the grain's name.</summary>
    public static Task<SubmitResult> SubmitAsync(this ISweepGrain sweep, string yamlText, string fileName, CancellationToken cancellationToken = default)
    {
        SweepPlan plan;
        try
        {
            plan = SweepPlan.Of(SweepFile.Parse(yamlText, fileName));
        }
        catch (SweepValidationException e)
        {
            return Task.FromResult(new SubmitResult(false, e.Message, 0, 0, SubmitOutcome.Invalid));
        }
        return sweep.AsReference<ISweepPlanGrain>().SubmitAsync(plan, cancellationToken);
    }
}
