using MathNet.Numerics;

namespace Orchestrator.Sweeps.Search;

/// <summary>
/// A one-dimensional Parzen estimator, as Optuna 3.1's univariate <c>_ParzenEstimator</c>: one kernel per observation
/// plus a prior kernel (weight 1) over the whole range. Numeric dimensions use truncated Gaussians on [low, high]
/// whose widths are the larger gap to the sorted neighbours, clipped to [range / min(100, n + 1), range] ("magic
/// clip"); discrete ones (a step) put on each grid value the kernel's mass within half a step. Categorical
/// dimensions use, per observation, the observed choice plus the prior weight spread over all choices.
/// </summary>
internal sealed class ParzenEstimator
{
    private readonly SearchDimension _dimension;
    private readonly double _low, _high, _step;
    private readonly double[] _mus, _sigmas, _logWeights, _logNormalisers, _cdfLow, _cdfHigh;
    /// <summary>Categorical: per kernel, the log probability of each choice.</summary>
    private readonly double[][]? _categoryLogProbabilities;
    /// <summary>Categorical: the mixture's log probability of each choice (the kernels summed once, not per candidate).</summary>
    private readonly double[]? _mixtureLogProbabilities;
    /// <summary>Numeric: kernels narrow enough to look up by position (sorted by centre), and the rest (the prior, sparse regions).</summary>
    private readonly int[] _narrow = [], _wide = [];
    private readonly double[] _narrowMus = [];
    private readonly double _window;
    private readonly double[] _weights;

    /// <param name="observations">Coordinates in the estimator's space; numeric dimensions need them sorted ascending (the caller keeps them so).</param>
    /// <param name="weights">One weight per observation, aligned (Optuna's ramp: older observations weigh less past 25).</param>
    public ParzenEstimator(SearchDimension dimension, ReadOnlySpan<double> observations, ReadOnlySpan<double> weights)
    {
        _dimension = dimension;
        int n = observations.Length;
        _weights = new double[n + 1];
        double total = 1; // the prior's weight
        for (int i = 0; i < n; i++) total += weights[i];
        for (int i = 0; i < n; i++) _weights[i] = weights[i] / total;
        _weights[n] = 1 / total;
        _logWeights = _weights.Select(w => Math.Log(w)).ToArray();

        if (dimension.Kind == DimensionKind.Categorical)
        {
            int choices = dimension.Count;
            _categoryLogProbabilities = new double[n + 1][];
            var prior = PriorProbabilities(dimension);
            double spread = 1.0 / (n + 1); // Optuna: prior_weight / n_kernels on every choice of every kernel
            for (int i = 0; i < n; i++)
            {
                var row = new double[choices];
                for (int c = 0; c < choices; c++) row[c] = spread * prior[c] * choices;
                row[(int)observations[i]] += 1;
                var sum = row.Sum();
                _categoryLogProbabilities[i] = row.Select(x => Math.Log(x / sum)).ToArray();
            }
            _categoryLogProbabilities[n] = prior.Select(p => Math.Log(p)).ToArray();
            _mixtureLogProbabilities = new double[choices];
            for (int c = 0; c < choices; c++)
            {
                double sum = 0;
                for (int k = 0; k <= n; k++) sum += _weights[k] * Math.Exp(_categoryLogProbabilities[k][c]);
                _mixtureLogProbabilities[c] = Math.Log(sum);
            }
            _mus = _sigmas = _logNormalisers = _cdfLow = _cdfHigh = [];
            return;
        }

        (_low, _high, _step) = Bounds(dimension);
        _mus = new double[n + 1];
        _sigmas = new double[n + 1];
        observations.CopyTo(_mus);
        double range = _high - _low;
        // Each observation's width: the larger gap to its sorted neighbours, the range's ends counting as neighbours,
        // except that the outermost two use their inner gap (Optuna's consider_endpoints=False).
        for (int i = 0; i < n; i++)
        {
            double left = i == 0 ? _low : observations[i - 1];
            double right = i == n - 1 ? _high : observations[i + 1];
            _sigmas[i] = Math.Max(observations[i] - left, right - observations[i]);
        }
        if (n >= 2)
        {
            _sigmas[0] = observations[1] - observations[0];
            _sigmas[n - 1] = observations[n - 1] - observations[n - 2];
        }
        _mus[n] = 0.5 * (_low + _high);
        _sigmas[n] = range;
        double minSigma = range / Math.Min(100.0, n + 2.0); // n kernels + the prior, plus one (Optuna: 1 + len(mus))
        for (int i = 0; i <= n; i++) _sigmas[i] = Math.Clamp(_sigmas[i], minSigma, range);

        // Kernels whose width is at most a few times the narrowest are looked up around each candidate by position:
        // one further away than FarSigmas widths adds under e^-50 of its mass. The others are always evaluated.
        double cut = 4 * minSigma;
        _narrow = Enumerable.Range(0, n).Where(i => _sigmas[i] <= cut).ToArray(); // observations come sorted
        _wide = Enumerable.Range(0, n + 1).Where(i => i == n || _sigmas[i] > cut).ToArray();
        _narrowMus = _narrow.Select(i => _mus[i]).ToArray();
        _window = FarSigmas * cut + _step;

        _cdfLow = new double[n + 1];
        _cdfHigh = new double[n + 1];
        _logNormalisers = new double[n + 1];
        for (int i = 0; i <= n; i++)
        {
            double a = (_low - _mus[i]) / _sigmas[i], b = (_high - _mus[i]) / _sigmas[i];
            if (a < -FarSigmas && b > FarSigmas) { (_cdfLow[i], _cdfHigh[i]) = (0, 1); continue; } // the whole kernel is inside: log 1
            _cdfLow[i] = Phi(a);
            _cdfHigh[i] = Phi(b);
            _logNormalisers[i] = Math.Log(Math.Max(Mass(a, b), 1e-300));
        }
    }

    /// <summary>The range the kernels live on: a discrete dimension's grid values own half a step either side.</summary>
    public static (double Low, double High, double Step) Bounds(SearchDimension d)
    {
        if (d.Kind == DimensionKind.Ordinal) return (-0.5, d.Count - 0.5, 1);
        var step = d.Log ? 0 : d.Step;
        return step > 0 ? (d.Low - step / 2, d.High + step / 2, step) : (d.Low, d.High, 0);
    }

    private static double[] PriorProbabilities(SearchDimension d) =>
        d.Probabilities.Count == d.Count ? d.Probabilities.Select(p => Math.Max(p, 1e-12)).ToArray() : Enumerable.Repeat(1.0 / d.Count, d.Count).ToArray();

    /// <summary>Draws <paramref name="count"/> points from the mixture.</summary>
    public double[] Sample(SplitMix64 rng, int count)
    {
        var result = new double[count];
        for (int s = 0; s < count; s++)
        {
            int k = Pick(rng.NextDouble());
            if (_categoryLogProbabilities is { } cats)
            {
                double u = rng.NextDouble(), sum = 0;
                var row = cats[k];
                int c = 0;
                for (; c < row.Length - 1; c++) if (u < (sum += Math.Exp(row[c]))) break;
                result[s] = c;
                continue;
            }
            // Inverse-CDF draw from the kernel truncated to [low, high].
            double p = _cdfLow[k] + rng.NextDouble() * (_cdfHigh[k] - _cdfLow[k]);
            double x = _mus[k] + _sigmas[k] * PhiInverse(p);
            x = Math.Clamp(x, _low, _high);
            if (_step > 0)
            {
                double first = _dimension.Kind == DimensionKind.Ordinal ? 0 : _dimension.Low;
                double last = _dimension.Kind == DimensionKind.Ordinal ? _dimension.Count - 1 : _dimension.High;
                x = Math.Clamp(first + Math.Round((x - first) / _step) * _step, first, last);
            }
            result[s] = x;
        }
        return result;
    }

    /// <summary>The log density (a discrete dimension: log probability) of each point.</summary>
    public double[] LogPdf(double[] xs)
    {
        var result = new double[xs.Length];
        var terms = new List<double>();
        for (int s = 0; s < xs.Length; s++)
        {
            double x = xs[s];
            if (_mixtureLogProbabilities is { } mixture)
            {
                result[s] = mixture[(int)x];
                continue;
            }
            terms.Clear();
            int from = LowerBound(_narrowMus, x - _window), to = LowerBound(_narrowMus, x + _window);
            for (int j = from; j < to; j++) AddTerm(terms, _narrow[j], x);
            foreach (var k in _wide) AddTerm(terms, k, x);
            result[s] = LogSumExp(terms);
        }
        return result;
    }

    private void AddTerm(List<double> terms, int k, double x)
    {
        if (Math.Abs(x - _mus[k]) > FarSigmas * _sigmas[k] + _step) return; // under e^-50 of its mass: nothing next to the prior kernel
        double logP;
        if (_step > 0)
        {
            double upper = (Math.Min(x + _step / 2, _high) - _mus[k]) / _sigmas[k];
            double lower = (Math.Max(x - _step / 2, _low) - _mus[k]) / _sigmas[k];
            logP = Math.Log(Math.Max(Mass(lower, upper), 1e-300)) - _logNormalisers[k];
        }
        else
        {
            double z = (x - _mus[k]) / _sigmas[k];
            logP = -0.5 * z * z - Math.Log(_sigmas[k]) - LogSqrt2Pi - _logNormalisers[k];
        }
        terms.Add(logP + _logWeights[k]);
    }

    private static int LowerBound(double[] sorted, double x)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < x) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    private const double LogSqrt2Pi = 0.91893853320467274178;

    private int Pick(double u)
    {
        double sum = 0;
        for (int k = 0; k < _weights.Length - 1; k++) if (u < (sum += _weights[k])) return k;
        return _weights.Length - 1;
    }

    private static double LogSumExp(List<double> terms)
    {
        double max = double.NegativeInfinity;
        foreach (var t in terms) if (t > max) max = t;
        if (double.IsNegativeInfinity(max)) return max;
        double sum = 0;
        foreach (var t in terms) sum += Math.Exp(t - max);
        return max + Math.Log(sum);
    }

    private const double FarSigmas = 10;

    /// <summary>Standard normal mass between <paramref name="a"/> and <paramref name="b"/>, from the nearer tail so a mass far out keeps its digits.</summary>
    private static double Mass(double a, double b)
    {
        if (a >= 0) return UpperTail(a) - UpperTail(b);
        if (b <= 0) return UpperTail(-b) - UpperTail(-a);
        return 1 - UpperTail(-a) - UpperTail(b);
    }

    private static double Phi(double z) => 1 - UpperTail(z);

    /// <summary>
    /// P(Z &gt; z) = erfc(z/√2)/2 with Numerical Recipes' Chebyshev erfc (relative error under 1.2e-7 everywhere): one
    /// exp per call. The density ratio is evaluated for every kernel and candidate, so this is the hot path.
    /// </summary>
    private static double UpperTail(double z)
    {
        double x = z / Constants.Sqrt2;
        double ax = Math.Abs(x);
        double t = 1 / (1 + 0.5 * ax);
        double erfc = t * Math.Exp(-ax * ax - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return 0.5 * (x >= 0 ? erfc : 2 - erfc);
    }

    private static double PhiInverse(double p) => -Constants.Sqrt2 * SpecialFunctions.ErfcInv(2 * Math.Clamp(p, 1e-300, 1 - 1e-16));
}
