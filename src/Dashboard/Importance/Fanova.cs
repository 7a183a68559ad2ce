namespace Orchestrator.Dashboard.Importance;

/// <summary>
/// Functional ANOVA of one tree (Hutter, Hoos and Leyton-Brown 2014, as Optuna's FanovaImportanceEvaluator computes it):
/// under a uniform measure on the domain, the share of the tree's variance that the marginal of a set of columns
/// explains alone, Var(E[f | x_S]) / Var(f). A domain column of zero width counts as a point.
/// </summary>
public static class Fanova
{
    /// <summary>Cells beyond this (product of intervals over the set) are not enumerated: the set's share is reported as 0.</summary>
    private const int MaxCells = 1 << 16;

    public static double TotalVariance(TreeBoxes tree, (double Low, double High)[] domain)
    {
        var weights = tree.Leaves.Select(l => Fraction(l, domain, null)).ToList();
        var mean = tree.Leaves.Select((l, i) => weights[i] * l.Value).Sum();
        return tree.Leaves.Select((l, i) => weights[i] * (l.Value - mean) * (l.Value - mean)).Sum();
    }

    /// <summary>Var over x_S of the tree's marginal prediction E[f | x_S], the other columns averaged uniformly.</summary>
    public static double MarginalVariance(TreeBoxes tree, (double Low, double High)[] domain, IReadOnlyList<int> set)
    {
        var intervals = set.Select(c => Intervals(tree.Cuts[c], domain[c])).ToList();
        long cells = intervals.Aggregate(1L, (n, i) => n * i.Count);
        if (cells > MaxCells) return 0;
        var weights = tree.Leaves.Select(l => Fraction(l, domain, set)).ToList();
        var values = new List<(double Weight, double Marginal)>();
        var index = new int[set.Count];
        for (var cell = 0; cell < cells; cell++)
        {
            var rest = cell;
            var weight = 1.0;
            for (var k = 0; k < set.Count; k++)
            {
                index[k] = rest % intervals[k].Count;
                rest /= intervals[k].Count;
                weight *= intervals[k][index[k]].Weight;
            }
            var marginal = 0.0;
            for (var l = 0; l < tree.Leaves.Count; l++)
            {
                var leaf = tree.Leaves[l];
                var inside = true;
                for (var k = 0; k < set.Count && inside; k++)
                {
                    var x = intervals[k][index[k]].Middle;
                    inside = x >= leaf.Low[set[k]] && x <= leaf.High[set[k]];
                }
                if (inside) marginal += weights[l] * leaf.Value;
            }
            values.Add((weight, marginal));
        }
        var mean = values.Sum(v => v.Weight * v.Marginal);
        return values.Sum(v => v.Weight * (v.Marginal - mean) * (v.Marginal - mean));
    }

    /// <summary>The share of the leaf's box in the domain over the columns outside <paramref name="except"/>.</summary>
    private static double Fraction(TreeBoxes.Box leaf, (double Low, double High)[] domain, IReadOnlyList<int>? except)
    {
        var fraction = 1.0;
        for (var c = 0; c < domain.Length; c++)
        {
            if (except is not null && except.Contains(c)) continue;
            var width = domain[c].High - domain[c].Low;
            if (width > 0) fraction *= (leaf.High[c] - leaf.Low[c]) / width;
        }
        return fraction;
    }

    /// <summary>The domain of one column cut at the tree's thresholds: each piece's middle and share of the width.</summary>
    private static List<(double Middle, double Weight)> Intervals(IReadOnlyList<double> cuts, (double Low, double High) domain)
    {
        var width = domain.High - domain.Low;
        if (width <= 0) return [(domain.Low, 1)];
        var points = new List<double> { domain.Low };
        points.AddRange(cuts);
        points.Add(domain.High);
        return [.. points.Zip(points.Skip(1), (a, b) => ((a + b) / 2, (b - a) / width)).Where(i => i.Item2 > 0)];
    }
}
