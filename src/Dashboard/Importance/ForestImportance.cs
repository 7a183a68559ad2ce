using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;

namespace Orchestrator.Dashboard.Importance;

/// <summary>
/// One entry of the importance chart: a parameter, or a group of tied parameters (<see cref="TiedParameters"/>) shown
/// as one ("rank ≡ alpha"). <see cref="Share"/> is the fANOVA importance normalised over the entries (Optuna's
/// convention); <see cref="Explained"/> the mean share of a tree's variance the entry explains alone; <see cref="Spread"/>
/// that share's standard deviation over the trees. <see cref="CorrelatedWith"/> names other parameters whose Spearman
/// |ρ| is 0.7 or more in the finished trials, whose credit the forest may have split with this one.
/// </summary>
public sealed record ParameterImportance(string Parameter, IReadOnlyList<string> Members, double Share, double Explained, double Spread,
    IReadOnlyList<Correlation> CorrelatedWith);

public sealed record Correlation(string Parameter, double Spearman);

/// <summary>
/// Which parameters explain the objective, by fANOVA over a random forest fitted to the finished trials: ML.NET's
/// FastForest (64 trees, leaves down to one trial, every feature at every split, like the scikit-learn forest in
/// Optuna's FanovaImportanceEvaluator), then each parameter's (or tied group's) share of every tree's variance.
/// Unlike η² of each parameter alone, the forest sees all parameters at once, so a parameter whose effect another
/// explains gets little credit; parameters the trials cannot tell apart are one group.
/// </summary>
public static class ForestImportance
{
    /// <summary>Fewer finished trials than this and the forest says nothing useful: no importance is given.</summary>
    public const int MinimumTrials = 4;

    /// <summary>At most this many trials are fitted (an even spread over the finished ones): the forest's cost, not the sweep's size, bounds a request.</summary>
    public const int MaximumTrials = 2000;

    private const int Trees = 64;

    private sealed class Example
    {
        public float Label { get; set; }

        public float[] Features { get; set; } = [];
    }

    public static IReadOnlyList<ParameterImportance> Evaluate(
        IReadOnlyList<(IReadOnlyDictionary<string, ParameterValue> Parameters, double Score)> trials, IReadOnlyList<string> parameters, int seed = 0)
    {
        var usable = trials.Where(t => double.IsFinite(t.Score) && parameters.All(t.Parameters.ContainsKey)).ToList();
        if (usable.Count > MaximumTrials)
            usable = [.. Enumerable.Range(0, MaximumTrials).Select(i => usable[(int)((long)i * usable.Count / MaximumTrials)])];
        var configs = usable.Select(t => t.Parameters).ToList();
        var varied = parameters.Where(p => configs.Select(c => c[p].ToString()).Distinct().Count() > 1).ToList();
        if (usable.Count < MinimumTrials || varied.Count == 0) return [];

        var groups = TiedParameters.Group(configs, varied);
        // One column set per group: its first member stands for all (the others carry the same information).
        var table = ParameterTable.Of(usable, [.. groups.Select(g => g[0])]);
        var forest = Fit(table, seed);
        var domain = table.Bounds;
        var explained = groups.Select(_ => new List<double>()).ToList();
        foreach (var tree in forest.TrainedTreeEnsemble.Trees)
        {
            var boxes = TreeBoxes.Of(tree, domain);
            var total = Fanova.TotalVariance(boxes, domain);
            if (total <= 0) continue;
            for (var g = 0; g < groups.Count; g++)
                explained[g].Add(Fanova.MarginalVariance(boxes, domain, table.Columns[g]) / total);
        }
        var means = explained.Select(e => e.Count > 0 ? e.Average() : 0).ToList();
        var sum = means.Sum();
        return groups.Select((g, i) => new ParameterImportance(
                string.Join(" ≡ ", g), g, sum > 0 ? means[i] / sum : 0, means[i], StandardDeviation(explained[i]),
                Correlated(configs, g, varied)))
            .OrderByDescending(i => i.Share).ThenBy(i => i.Parameter, StringComparer.Ordinal)
            .ToList();
    }

    public static FastForestRegressionModelParameters Fit(ParameterTable table, int seed)
    {
        var ml = new MLContext(seed);
        var schema = SchemaDefinition.Create(typeof(Example));
        schema[nameof(Example.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, table.ColumnCount);
        var data = ml.Data.LoadFromEnumerable(
            table.Rows.Select((row, i) => new Example { Label = (float)table.Scores[i], Features = row }), schema);
        var trainer = ml.Regression.Trainers.FastForest(new FastForestRegressionTrainer.Options
        {
            LabelColumnName = nameof(Example.Label),
            FeatureColumnName = nameof(Example.Features),
            NumberOfTrees = Trees,
            NumberOfLeaves = Math.Max(2, Math.Min(table.Rows.Length, 256)),
            MinimumExampleCountPerLeaf = 1,
            FeatureFraction = 1,
            FeatureFractionPerSplit = 1,
            NumberOfThreads = 1,
            Seed = seed,
            // Each tree fits a different 80% of the trials (ML.NET's default is 70%). On bench/search-table.csv the
            // third and fourth parameters (alpha, dropout: about 1% each) swap places between 0.632 and 0.8, as they
            // do between Optuna's own seeds; the top two (rank, lr) hold at every fraction tried (0.5 to 1).
            BaggingExampleFraction = 0.8,
        });
        return trainer.Fit(data).Model;
    }

    private static IReadOnlyList<Correlation> Correlated(IReadOnlyList<IReadOnlyDictionary<string, ParameterValue>> configs, IReadOnlyList<string> group, IReadOnlyList<string> parameters) =>
        parameters.Where(p => !group.Contains(p))
            .Select(p => (Parameter: p, Rho: TiedParameters.Spearman(configs, group[0], p)))
            .Where(x => x.Rho is { } r && Math.Abs(r) >= 0.7)
            .Select(x => new Correlation(x.Parameter, x.Rho!.Value))
            .ToList();

    private static double StandardDeviation(IReadOnlyList<double> xs)
    {
        if (xs.Count < 2) return 0;
        var mean = xs.Average();
        return Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / xs.Count);
    }
}
