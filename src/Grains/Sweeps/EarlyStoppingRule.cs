using System.Globalization;
using Orchestrator.Sweeps;
using Orchestrator.Sweeps.EarlyStopping;

namespace Orchestrator.Grains.Sweeps;

/// <summary>
/// The early-stopping rule as journaled: a flat, typed record whose fields are fixed here, independent of how the
/// sweep file spells them. The policy is rebuilt from it on replay.
/// </summary>
public sealed record EarlyStoppingRule(string Type, int MinIter = 0, int MaxIter = 0, double Eta = 0, int Brackets = 0, int MinTrials = 0, int StartIter = 0)
{
    /// <summary>The rule in words, as a prune decision names it: "asha(min_iter 1, max_iter 9, eta 3, brackets 1)".</summary>
    public string Description => Type == "median"
        ? $"median(min_trials {MinTrials}, start_iter {StartIter})"
        : $"{Type}(min_iter {MinIter}, max_iter {MaxIter}, eta {Eta.ToString(CultureInfo.InvariantCulture)}, brackets {Brackets})";

    public static EarlyStoppingRule? Of(EarlyTerminationSpec? spec) => spec switch
    {
        null => null,
        AshaSpec a => new("asha", MinIter: a.MinIter, MaxIter: a.MaxIter, Eta: a.Eta, Brackets: a.Brackets),
        HyperbandSpec h => new("hyperband", MinIter: h.MinIter, MaxIter: h.MaxIter, Eta: h.Eta, Brackets: h.Brackets),
        MedianStopSpec m => new("median", MinTrials: m.MinTrials, StartIter: m.StartIter),
        _ => throw new ArgumentException($"early termination {spec.GetType().Name} has no journal form yet; add it to {nameof(EarlyStoppingRule)}", nameof(spec)),
    };

    public EarlyStoppingPolicy CreatePolicy(MetricGoal goal) => EarlyStoppingPolicy.Create(Type switch
    {
        "asha" => new AshaSpec(MinIter, MaxIter, Eta, Brackets),
        "hyperband" => new HyperbandSpec(MinIter, MaxIter, Eta, Brackets),
        "median" => new MedianStopSpec(MinTrials, StartIter),
        _ => throw new InvalidOperationException($"the journal names an unknown early-stopping rule '{Type}'"),
    }, goal);
}
