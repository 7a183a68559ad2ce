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
    private readonly double[] _mus, _sigmas;
    /// <summary>
    /// Per kernel, computed when first needed (NaN until then): the bad estimator of a long history has thousands of
    /// kernels, and a suggestion evaluates only the few near its 24 candidates.
    /// </summary>
    private readonly double[] _logWeights, _logNormalisers, _cdfLow, _cdfHigh;
    /// <summary>Categorical: per kernel, the log probability of each choice (kernels that observed the same choice share a row).</summary>
    private readonly double[][]? _categoryLogProbabilities;
    /// <summary>Categorical: the mixture's log probability of each choice (the kernels summed once, not per candidate).</summary>
    private readonly double[]? _mixtureLogProbabilities;
    /// <summary>
    /// Numeric: kernels narrow enough to look up by position, sorted by centre, in two bands: those at the narrowest
    /// width (in a long history nearly all of them: the neighbours' gaps are below the clip) and those up to a few
    /// times wider, each band searched within its own window. The rest (the prior, sparse regions) are always evaluated.
    /// Within a band, neighbouring kernels with the same centre and width (a discrete option observed many times: rank
    /// 8 in a thousand trials) are one term of their summed weight.
    /// </summary>
    private readonly Band _narrowest = Band.Empty, _narrow = Band.Empty;
    private readonly int[] _wide = [];
    /// <summary>Per kernel: − log σ − log √(2π) − log normaliser, computed when first needed (NaN until then).</summary>
    private readonly double[] _termConstants = [];
    private double[] _terms = new double[64];

    /// <summary>A band's terms: a representative kernel each, its centre, the summed weight of the kernels it stands for and that weight's log (NaN until needed).</summary>
    private sealed record Band(int[] Kernels, double[] Mus, double[] Weights, double[] LogWeights, double Window)
    {
        public static readonly Band Empty = new([], [], [], [], 0);
    }

    private Band BandOf(List<int> kernels, double window)
    {
        var representatives = new List<int>(kernels.Count);
        var weights = new List<double>(kernels.Count);
        foreach (var k in kernels)
        {
            if (representatives.Count > 0 && representatives[^1] is var r && _mus[k] == _mus[r] && _sigmas[k] == _sigmas[r]) weights[^1] += _weights[k];
            else { representatives.Add(k); weights.Add(_weights[k]); }
        }
        var logWeights = new double[representatives.Count];
        Array.Fill(logWeights, double.NaN);
        return new Band(representatives.ToArray(), representatives.Select(k => _mus[k]).ToArray(), weights.ToArray(), logWeights, window);
    }
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
        _logWeights = new double[n + 1];
        Array.Fill(_logWeights, double.NaN);

        if (dimension.Kind == DimensionKind.Categorical)
        {
            int choices = dimension.Count;
            _categoryLogProbabilities = new double[n + 1][];
            var prior = PriorProbabilities(dimension);
            double spread = 1.0 / (n + 1); // Optuna: prior_weight / n_kernels on every choice of every kernel
            // A kernel's row depends only on the choice it observed: one row per choice, shared.
            var rows = new double[choices][];
            var probabilities = new double[choices + 1][];
            for (int observed = 0; observed < choices; observed++)
            {
                var row = new double[choices];
                for (int c = 0; c < choices; c++) row[c] = spread * prior[c] * choices;
                row[observed] += 1;
                var sum = row.Sum();
                rows[observed] = row.Select(x => Math.Log(x / sum)).ToArray();
                probabilities[observed] = rows[observed].Select(Math.Exp).ToArray();
            }
            for (int i = 0; i < n; i++) _categoryLogProbabilities[i] = rows[(int)observations[i]];
            _categoryLogProbabilities[n] = prior.Select(p => Math.Log(p)).ToArray();
            probabilities[choices] = _categoryLogProbabilities[n].Select(Math.Exp).ToArray();
            _mixtureLogProbabilities = new double[choices];
            for (int c = 0; c < choices; c++)
            {
                double sum = 0;
                for (int k = 0; k < n; k++) sum += _weights[k] * probabilities[(int)observations[k]][c];
                sum += _weights[n] * probabilities[choices][c];
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
        var narrowest = new List<int>();
        var narrow = new List<int>();
        var wide = new List<int>();
        for (int i = 0; i <= n; i++) // observations come sorted, so each band is too
            (i == n || _sigmas[i] > cut ? wide : _sigmas[i] == minSigma ? narrowest : narrow).Add(i);
        _narrowest = BandOf(narrowest, FarSigmas * minSigma + _step);
        _narrow = BandOf(narrow, FarSigmas * cut + _step);
        _wide = wide.ToArray();
        _termConstants = new double[n + 1];
        Array.Fill(_termConstants, double.NaN);

        _cdfLow = new double[n + 1];
        _cdfHigh = new double[n + 1];
        _logNormalisers = new double[n + 1];
        Array.Fill(_logNormalisers, double.NaN);
    }

    /// <summary>Kernel <paramref name="k"/>'s truncation: its CDF at both ends of the range and the log of the mass between.</summary>
    private double LogNormaliser(int k)
    {
        if (!double.IsNaN(_logNormalisers[k])) return _logNormalisers[k];
        double a = (_low - _mus[k]) / _sigmas[k], b = (_high - _mus[k]) / _sigmas[k];
        if (a < -FarSigmas && b > FarSigmas) (_cdfLow[k], _cdfHigh[k], _logNormalisers[k]) = (0, 1, 0); // the whole kernel is inside: log 1
        else (_cdfLow[k], _cdfHigh[k], _logNormalisers[k]) = (Phi(a), Phi(b), Math.Log(Math.Max(Mass(a, b), 1e-300)));
        return _logNormalisers[k];
    }

    private double LogWeight(int k) => double.IsNaN(_logWeights[k]) ? _logWeights[k] = Math.Log(_weights[k]) : _logWeights[k];

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
            LogNormaliser(k);
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
        for (int s = 0; s < xs.Length; s++)
        {
            double x = xs[s];
            if (_mixtureLogProbabilities is { } mixture)
            {
                result[s] = mixture[(int)x];
                continue;
            }
            int count = 0;
            AddBand(_narrowest, x, ref count);
            AddBand(_narrow, x, ref count);
            foreach (var k in _wide) AddTerm(k, x, LogWeight(k), ref count);
            result[s] = LogSumExp(_terms.AsSpan(0, count));
        }
        return result;
    }

    private void AddBand(Band band, double x, ref int count)
    {
        int from = LowerBound(band.Mus, x - band.Window), to = LowerBound(band.Mus, x + band.Window);
        for (int j = from; j < to; j++)
        {
            var logWeight = band.LogWeights[j];
            if (double.IsNaN(logWeight)) logWeight = band.LogWeights[j] = Math.Log(band.Weights[j]);
            AddTerm(band.Kernels[j], x, logWeight, ref count);
        }
    }

    private void AddTerm(int k, double x, double logWeight, ref int count)
    {
        double sigma = _sigmas[k];
        if (Math.Abs(x - _mus[k]) > FarSigmas * sigma + _step) return; // under e^-50 of its mass: nothing next to the prior kernel
        double term;
        if (_step > 0)
        {
            double upper = (Math.Min(x + _step / 2, _high) - _mus[k]) / sigma;
            double lower = (Math.Max(x - _step / 2, _low) - _mus[k]) / sigma;
            term = Math.Log(Math.Max(Mass(lower, upper), 1e-300)) - LogNormaliser(k) + logWeight;
        }
        else
        {
            double z = (x - _mus[k]) / sigma;
            double constant = _termConstants[k];
            if (double.IsNaN(constant)) constant = _termConstants[k] = -Math.Log(sigma) - LogSqrt2Pi - LogNormaliser(k);
            term = constant - 0.5 * z * z + logWeight;
        }
        if (count == _terms.Length) Array.Resize(ref _terms, 2 * count);
        _terms[count++] = term;
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

    private static double LogSumExp(ReadOnlySpan<double> terms)
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
