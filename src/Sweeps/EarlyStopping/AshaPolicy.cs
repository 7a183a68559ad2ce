using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Orchestrator.Sweeps.EarlyStopping;

public static class AshaRungs
{
    /// <summary>The largest factor between rungs a sweep may ask for.</summary>
    public const double MaxEta = 100;

    /// <summary>
    /// Rung iterations of bracket <paramref name="bracket"/>: min_iter·eta^(bracket+k) below max_iter, ascending. A
    /// fractional eta rounds each rung down, as W&amp;B's bands do (int(min_iter·eta^k): min_iter 30, eta 1.5 → 30, 45,
    /// 67, 101); a rung that rounds onto the one before it is the same rung, listed once.
    /// </summary>
    public static IReadOnlyList<int> Milestones(int minIter, int maxIter, double eta, int bracket)
    {
        var result = new List<int>();
        double r = minIter;
        for (int s = 0; s < bracket && r < maxIter; s++) r *= eta;
        for (; r < maxIter; r *= eta)
        {
            var milestone = (int)Math.Floor(r);
            if (result.Count == 0 || result[^1] != milestone) result.Add(milestone);
        }
        return result;
    }
}

/// <summary>
/// Asynchronous successive halving (Li et al. 2018, "A System for Massively Parallel Hyperparameter Tuning"),
/// as Ray Tune's AsyncHyperBandScheduler runs it: when a trial reaches a rung it records its metric there and
/// goes on only if it ranks in the top 1/eta of every metric recorded at that rung so far, itself included;
/// nobody waits for stragglers. Precisely: with n metrics at the rung, it continues when fewer than
/// max(1, floor(n / eta)) of them are strictly better (so the first trial at a rung always continues, and ties
/// favour the newcomer). A trial that jumps past a rung is judged at the highest rung it has reached, once.
/// With several brackets (Hyperband), a trial's bracket is a stable hash of its id; bracket s starts at
/// min_iter·eta^s.
/// </summary>
internal sealed class AshaPolicy : EarlyStoppingPolicy
{
    private readonly double _eta;
    private readonly Rung[][] _brackets;

    private sealed class Rung(int milestone)
    {
        public int Milestone { get; } = milestone;
        public List<double> Scores { get; } = [];
        public HashSet<string> Trials { get; } = new(StringComparer.Ordinal);
    }

    public AshaPolicy(MetricGoal goal, int minIter, int maxIter, double eta, int brackets) : base(goal)
    {
        if (minIter < 1 || maxIter <= minIter || !(eta > 1) || brackets < 1) throw new ArgumentException("ASHA needs 1 ≤ min_iter < max_iter, eta > 1, brackets ≥ 1");
        _eta = eta;
        _brackets = Enumerable.Range(0, brackets)
            .Select(s => AshaRungs.Milestones(minIter, maxIter, eta, s).Select(m => new Rung(m)).ToArray())
            .ToArray();
    }

    public int BracketOf(string trialId)
    {
        if (_brackets.Length == 1) return 0;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(trialId));
        return (int)(BinaryPrimitives.ReadUInt64LittleEndian(hash) % (ulong)_brackets.Length);
    }

    protected override Decision OnReport(string trialId, int iteration, double score)
    {
        var rungs = _brackets[BracketOf(trialId)];
        for (int i = rungs.Length - 1; i >= 0; i--)
        {
            var rung = rungs[i];
            if (iteration < rung.Milestone) continue;
            if (!rung.Trials.Add(trialId)) return Decision.Continue;
            rung.Scores.Add(score);
            int better = rung.Scores.Count(s => s > score);
            int keep = Math.Max(1, (int)Math.Floor(rung.Scores.Count / _eta));
            return better < keep ? Decision.Continue : Decision.Stop;
        }
        return Decision.Continue;
    }

    protected override void Reset()
    {
        foreach (var rung in _brackets.SelectMany(b => b))
        {
            rung.Scores.Clear();
            rung.Trials.Clear();
        }
    }
}
