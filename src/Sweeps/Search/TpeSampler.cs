using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace Orchestrator.Sweeps.Search;

/// <summary>TPE's knobs, Optuna 3.1's defaults.</summary>
public sealed record TpeOptions
{
    /// <summary>Trials drawn from the priors before TPE starts (finished ones: completed or pruned).</summary>
    public int StartupTrials { get; init; } = 10;
    /// <summary>Points drawn from the good estimator per suggestion; the one with the best density ratio wins.</summary>
    public int Candidates { get; init; } = 24;
    /// <summary>The good set: the best ceil(Gamma × n) trials, at most MaxGood.</summary>
    public double Gamma { get; init; } = 0.1;
    public int MaxGood { get; init; } = 25;
}

/// <summary>
/// Tree-structured Parzen estimator (Bergstra et al. 2011), as Optuna 3.1's <c>TPESampler</c> with its defaults:
/// the first <see cref="TpeOptions.StartupTrials"/> suggestions are prior draws; after that the finished trials are
/// split into the best ceil(0.1 n) (at most 25) and the rest, each dimension gets a Parzen estimator l(x) of the good
/// and g(x) of the rest, and the suggestion is, per dimension, the one of 24 draws from l with the highest l/g.
/// <list type="bullet">
/// <item>Pruned trials rank below every completed one, deeper rungs first, then by their last value (Optuna's rule).</item>
/// <item>Running trials count as bad ("constant liar"), so parallel suggestions spread out instead of repeating.</item>
/// <item>Incremental: observations are added one at a time into a ranking and per-dimension sorted lists; a
/// suggestion reads them without re-sorting the history.</item>
/// <item>Deterministic: the same observations in the same order and the same random stream give the same suggestion.</item>
/// </list>
/// W&amp;B's <c>bayes</c> fits a Gaussian process instead; TPE is used here because it handles the categorical and
/// integer options LoRA sweeps are made of (rank, target modules) natively, costs milliseconds with thousands of trials
/// (a GP is cubic in them), and is what Optuna, Ray Tune and Katib users already know.
/// </summary>
public sealed class TpeSampler
{
    private readonly SearchSpace _space;
    private readonly SearchDimension[] _dimensions;
    private readonly TpeOptions _options;
    private readonly bool _maximize;
    private readonly List<Observation> _observations = [];
    /// <summary>Observation indices, best first.</summary>
    private readonly List<int> _ranking = [];
    /// <summary>Per numeric or ordinal dimension: (coordinate, observation index), ascending.</summary>
    private readonly List<(double X, int Index)>[] _sorted;

    public TpeSampler(SearchSpace space, bool maximize, TpeOptions? options = null)
    {
        _space = space;
        _dimensions = space.Dimensions.ToArray();
        _options = options ?? new TpeOptions();
        _maximize = maximize;
        _sorted = _dimensions.Select(_ => new List<(double, int)>()).ToArray();
    }

    /// <summary>Finished trials observed so far.</summary>
    public int Count => _observations.Count;

    /// <summary>A completed trial and its metric.</summary>
    public void Complete(IReadOnlyDictionary<string, JsonNode> parameters, double metric) =>
        Add(parameters, new Rank(0, 0, Loss(metric)));

    /// <summary>A pruned trial: worse than any completed one, better the deeper its last rung (iteration) and value there.</summary>
    public void Pruned(IReadOnlyDictionary<string, JsonNode> parameters, int lastIteration, double? lastMetric) =>
        Add(parameters, new Rank(1, -lastIteration, lastMetric is { } m ? Loss(m) : double.PositiveInfinity));

    /// <summary>Lower is better; a NaN metric is the worst.</summary>
    private double Loss(double metric) => double.IsNaN(metric) ? double.PositiveInfinity : _maximize ? -metric : metric;

    /// <summary>
    /// The next trial's parameters (file order, fixed ones included). <paramref name="running"/> are trials suggested
    /// but not finished; they count as bad so the suggestion moves away from them.
    /// </summary>
    public List<KeyValuePair<string, JsonNode>> Suggest(SplitMix64 rng, IEnumerable<IReadOnlyDictionary<string, JsonNode>> running)
    {
        int n = _observations.Count;
        if (n < _options.StartupTrials) return _space.Draw(rng);
        int good = Math.Min((int)Math.Ceiling(_options.Gamma * n), _options.MaxGood);
        var isGood = new bool[n];
        var goodIndices = new List<int>(good);
        for (int i = 0; i < good; i++) { isGood[_ranking[i]] = true; goodIndices.Add(_ranking[i]); }
        goodIndices.Sort();
        // Each bad observation's age among the bad ones: its index less the good ones before it.
        var badPosition = new int[n];
        for (int i = 0, goodSoFar = 0; i < n; i++)
            if (isGood[i]) goodSoFar++;
            else badPosition[i] = i - goodSoFar;
        var liars = running.Select(Encode).ToList();
        int bad = n - good + liars.Count;
        var badWeights = RampWeights(bad);

        var point = new double[_dimensions.Length];
        for (int d = 0; d < _dimensions.Length; d++)
        {
            var dim = _dimensions[d];
            var goodX = new List<double>(good);
            var badX = new List<double>(bad);
            var badW = new List<double>(bad);
            if (dim.Kind == DimensionKind.Categorical)
            {
                foreach (var i in goodIndices) if (!double.IsNaN(_observations[i].Point[d])) goodX.Add(_observations[i].Point[d]);
                int position = 0;
                for (int i = 0; i < n; i++)
                {
                    if (isGood[i]) continue;
                    var x = _observations[i].Point[d];
                    if (!double.IsNaN(x)) { badX.Add(x); badW.Add(badWeights[position]); }
                    position++;
                }
                foreach (var liar in liars) { if (!double.IsNaN(liar[d])) { badX.Add(liar[d]); badW.Add(badWeights[position]); } position++; }
            }
            else
            {
                // Sorted order, each observation weighted by its age among the bad ones (its index less the good ones before it).
                var liarOrder = liars.Select((p, k) => (X: p[d], Position: n - good + k)).Where(l => !double.IsNaN(l.X)).OrderBy(l => l.X).ToList();
                int next = 0;
                foreach (var (x, i) in _sorted[d])
                {
                    if (isGood[i]) { goodX.Add(x); continue; }
                    while (next < liarOrder.Count && liarOrder[next].X < x) { badX.Add(liarOrder[next].X); badW.Add(badWeights[liarOrder[next].Position]); next++; }
                    badX.Add(x);
                    badW.Add(badWeights[badPosition[i]]);
                }
                for (; next < liarOrder.Count; next++) { badX.Add(liarOrder[next].X); badW.Add(badWeights[liarOrder[next].Position]); }
            }
            var l = new ParzenEstimator(dim, CollectionsMarshal.AsSpan(goodX), Ones(goodX.Count));
            var g = new ParzenEstimator(dim, CollectionsMarshal.AsSpan(badX), CollectionsMarshal.AsSpan(badW));
            var candidates = l.Sample(rng, _options.Candidates);
            var lp = l.LogPdf(candidates);
            var gp = g.LogPdf(candidates);
            int best = 0;
            for (int c = 1; c < candidates.Length; c++)
                if (lp[c] - gp[c] > lp[best] - gp[best]) best = c;
            point[d] = candidates[best];
        }
        return _space.Values(point);
    }

    private static double[] Ones(int count)
    {
        var ones = new double[count];
        Array.Fill(ones, 1.0);
        return ones;
    }

    /// <summary>Optuna's default_weights: 1 for the newest 25, a ramp from 1/n up to 1 for the older ones.</summary>
    internal static double[] RampWeights(int n)
    {
        var w = new double[n];
        Array.Fill(w, 1.0);
        int ramp = n - 25;
        if (ramp <= 0) return w;
        for (int i = 0; i < ramp; i++)
            w[i] = ramp == 1 ? 1.0 / n : 1.0 / n + i * (1 - 1.0 / n) / (ramp - 1);
        return w;
    }

    private double[] Encode(IReadOnlyDictionary<string, JsonNode> parameters)
    {
        var point = new double[_dimensions.Length];
        for (int d = 0; d < _dimensions.Length; d++)
            point[d] = parameters.TryGetValue(_dimensions[d].Name, out var v) && _dimensions[d].Encode(v) is { } x ? x : double.NaN;
        return point;
    }

    private void Add(IReadOnlyDictionary<string, JsonNode> parameters, Rank rank)
    {
        int index = _observations.Count;
        var point = Encode(parameters);
        _observations.Add(new Observation(point, rank));
        int at = _ranking.BinarySearch(index, Comparer<int>.Create((a, b) => Compare(a, b)));
        _ranking.Insert(at < 0 ? ~at : at, index);
        for (int d = 0; d < _dimensions.Length; d++)
        {
            if (_dimensions[d].Kind == DimensionKind.Categorical || double.IsNaN(point[d])) continue;
            var list = _sorted[d];
            int pos = list.BinarySearch((point[d], index));
            list.Insert(pos < 0 ? ~pos : pos, (point[d], index));
        }
    }

    private int Compare(int a, int b)
    {
        var (ra, rb) = (_observations[a].Rank, _observations[b].Rank);
        int c = ra.Group.CompareTo(rb.Group);
        if (c == 0) c = ra.Depth.CompareTo(rb.Depth);
        if (c == 0) c = ra.Loss.CompareTo(rb.Loss);
        return c != 0 ? c : a.CompareTo(b);
    }

    /// <summary>Lower is better: completed (group 0) by loss, then pruned (group 1) deepest first, then by loss.</summary>
    private readonly record struct Rank(int Group, int Depth, double Loss);

    private sealed record Observation(double[] Point, Rank Rank);
}
