
namespace Orchestrator.Sweeps;

/// <summary>`early_terminate:`: ASHA, hyperband and median stopping, as W&amp;B spells them.</summary>
internal sealed partial class SweepReader
{
    private EarlyTerminationSpec? EarlyTerminate(YNode node)
    {
        if (node is YScalar { IsNull: true }) return null;
        if (node is not YMapping map) { Add(node, $"early_terminate must be a mapping with type asha, hyperband or median, got {Describe(node)}"); return null; }
        if (!map.Entries.Any(e => e.Key is YScalar { Value: "type" })) { Add(map, "early_terminate needs type: asha, hyperband or median"); return null; }
        var typeNode = map.Entries.First(e => e.Key is YScalar { Value: "type" }).Value;
        var type = String(typeNode, "early_terminate.type");
        if (type is "median")
        {
            var k = Keys(map, ["type", "min_trials", "start_iter"], RayTuneNames);
            int minTrials = k.TryGetValue("min_trials", out var mt) ? (int)(Int(mt, "min_trials", 1, SweepFile.MaxRunCap) ?? 1) : 3;
            int startIter = k.TryGetValue("start_iter", out var si) ? (int)(Int(si, "start_iter", 0, SweepFile.MaxIterLimit) ?? 0) : 0;
            return new MedianStopSpec(minTrials, startIter);
        }
        if (type is "asha" or "hyperband")
        {
            var k = Keys(map, type == "hyperband" ? ["type", "min_iter", "max_iter", "eta", "brackets", "s", "strict"] : ["type", "min_iter", "max_iter", "eta", "brackets"],
                RayTuneNames);
            if (k.ContainsKey("s") && k.TryGetValue("brackets", out var both)) Add(both, "give s (W&B's name) or brackets, not both");
            var bracketsNode = k.GetValueOrDefault("s") ?? k.GetValueOrDefault("brackets");
            int minIter = k.TryGetValue("min_iter", out var mi) ? (int)(Int(mi, "min_iter", 1, SweepFile.MaxIterLimit) ?? 1) : 1;
            double eta = k.TryGetValue("eta", out var en) ? Eta(en) ?? 3 : 3;
            if (k.TryGetValue("strict", out var strict))
            {
                if (!(strict is YScalar { Plain: true } st && TryBool(st.Value, out _))) Add(strict, $"strict must be true or false, got {Written(strict)}");
                else Warn(strict, "hyperband strict (W&B's stricter pruning) has no effect here; rungs prune to the top 1/eta");
            }
            int? maxIter = null;
            if (k.TryGetValue("max_iter", out var ma)) maxIter = (int?)Int(ma, "max_iter", 1, SweepFile.MaxIterLimit);
            else if (type == "hyperband" && k.TryGetValue("min_iter", out _) && bracketsNode is not null && Int(bracketsNode, "s", 1, 20) is { } sGiven)
            {
                // W&B: min_iter and s without max_iter; the rungs are min_iter·eta^k for k < s.
                var top = minIter * Math.Pow(eta, sGiven);
                if (top > SweepFile.MaxIterLimit) { Add(bracketsNode, $"min_iter {minIter} × eta {Text(eta)}^s {sGiven} is over {SweepFile.MaxIterLimit} iterations"); return null; }
                maxIter = (int)top;
            }
            else if (type == "hyperband" && k.ContainsKey("min_iter") && bracketsNode is null)
            {
                // W&B's hyperband_stopping with min_iter alone: bands min_iter·eta^k for every k (it lists 100), the same
                // bands for every run: one bracket whose rungs go on as far as any trial reports.
                if (minIter >= SweepFile.MaxIterLimit) { Add(mi!, $"min_iter must be below {SweepFile.MaxIterLimit}, got {minIter}"); return null; }
                return new HyperbandSpec(minIter, SweepFile.MaxIterLimit, eta, 1);
            }
            else
            {
                Add(map, type == "hyperband"
                    ? "early_terminate hyperband needs max_iter (the most evaluations a trial makes), or min_iter (W&B's form: rungs at min_iter·eta^k)"
                    : $"early_terminate {type} needs max_iter (the most evaluations a trial makes)");
            }
            if (maxIter is null) return null;
            if (maxIter <= minIter) { Add(ma ?? map, $"max_iter must be greater than min_iter ({minIter}), got {maxIter}"); return null; }
            int rungs = EarlyStopping.AshaRungs.Milestones(minIter, maxIter.Value, eta, 0).Count;
            int brackets = type == "asha" ? 1 : rungs;
            if (bracketsNode is not null && Int(bracketsNode, k.ContainsKey("s") ? "s" : "brackets", 1, 100) is { } br)
            {
                if (br > rungs) Add(bracketsNode, $"{(k.ContainsKey("s") ? "s" : "brackets")} must be at most {rungs} (the rungs between min_iter {minIter} and max_iter {maxIter} with eta {Text(eta)}), got {br}");
                brackets = (int)br;
            }
            return type == "asha" ? new AshaSpec(minIter, maxIter.Value, eta, brackets) : new HyperbandSpec(minIter, maxIter.Value, eta, brackets);
        }
        if (type is not null) Add(typeNode, $"early_terminate.type must be asha, hyperband or median, got '{YamlTree.Truncate(type)}'");
        return null;
    }

    /// <summary>
    /// eta, the factor between rungs: W&amp;B and Ray Tune take any number above 1 (eta 1.5 gives W&amp;B's bands 30, 45,
    /// 67 from min_iter 30); at most <see cref="EarlyStopping.AshaRungs.MaxEta"/>.
    /// </summary>
    private double? Eta(YNode node)
    {
        if (Number(node, "eta") is not { } eta) return null;
        if (double.IsFinite(eta) && eta > 1 && eta <= EarlyStopping.AshaRungs.MaxEta) return eta;
        Add(node, $"eta must be a number above 1 and at most {EarlyStopping.AshaRungs.MaxEta} (the factor between rungs), got {Written(node)}");
        return null;
    }

    private static string Text(double value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
