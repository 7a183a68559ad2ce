namespace Orchestrator.Dashboard.Importance;

/// <summary>
/// Parameters that carry the same information in the finished trials: each one's value determines the other's and back
/// (alpha = rank in every trial, or alpha = 2·rank). No model can tell such parameters apart from these trials, so
/// importance is given to the group ("rank ≡ alpha"), never split between its members arbitrarily.
/// </summary>
public static class TiedParameters
{
    /// <summary>The parameters partitioned into groups of tied ones, each group in the order the parameters came.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Group(IReadOnlyList<IReadOnlyDictionary<string, ParameterValue>> trials, IReadOnlyList<string> parameters)
    {
        var groups = new List<List<string>>();
        foreach (var p in parameters)
        {
            var group = groups.FirstOrDefault(g => Tied(trials, g[0], p));
            if (group is null) groups.Add([p]);
            else group.Add(p);
        }
        return groups;
    }

    /// <summary>
    /// True when, over the trials that have both, a's value fixes b's and b's fixes a's (a one-to-one map of values)
    /// and that says something: some value repeats, or the map is monotone. Two parameters that never repeat a value
    /// (a sampled lr, a seed per trial) map one-to-one trivially and are not tied.
    /// </summary>
    public static bool Tied(IReadOnlyList<IReadOnlyDictionary<string, ParameterValue>> trials, string a, string b)
    {
        var both = trials.Where(t => t.ContainsKey(a) && t.ContainsKey(b)).ToList();
        var pairs = both.Select(t => (A: t[a].ToString(), B: t[b].ToString())).Distinct().ToList();
        var oneToOne = pairs.Count > 0
            && pairs.GroupBy(x => x.A).All(g => g.Count() == 1)
            && pairs.GroupBy(x => x.B).All(g => g.Count() == 1);
        return oneToOne && (pairs.Count < both.Count || Spearman(both, a, b) is { } rho && Math.Abs(rho) > 1 - 1e-9);
    }

    /// <summary>Spearman's rank correlation of two numeric parameters over the trials that have both (null when either is not numeric or constant).</summary>
    public static double? Spearman(IReadOnlyList<IReadOnlyDictionary<string, ParameterValue>> trials, string a, string b)
    {
        var pairs = trials.Where(t => t.ContainsKey(a) && t.ContainsKey(b)).Select(t => (A: t[a].AsNumber, B: t[b].AsNumber)).ToList();
        if (pairs.Count < 3 || pairs.Any(x => x.A is null || x.B is null)) return null;
        var ra = Ranks(pairs.Select(x => x.A!.Value).ToList());
        var rb = Ranks(pairs.Select(x => x.B!.Value).ToList());
        return Pearson(ra, rb);
    }

    private static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (var i = 0; i < order.Length;)
        {
            var j = i;
            while (j + 1 < order.Length && values[order[j + 1]] == values[order[i]]) j++;
            for (var k = i; k <= j; k++) ranks[order[k]] = (i + j) / 2.0; // ties share their mean rank
            i = j + 1;
        }
        return ranks;
    }

    private static double? Pearson(double[] x, double[] y)
    {
        var mx = x.Average();
        var my = y.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxx > 0 && syy > 0 ? sxy / Math.Sqrt(sxx * syy) : null;
    }
}
