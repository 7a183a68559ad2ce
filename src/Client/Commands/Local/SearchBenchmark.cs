using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Sweeps;
using Orchestrator.Sweeps.Search;

namespace Orchestrator.Client.Commands.Local;

/// <summary>
/// A trained grid as a table: one row per trial, a column per swept parameter (values as the trial had them, JSON
/// text) and the metric. Searches are run against it: a suggestion is scored by looking its row up.
/// </summary>
public sealed record SearchTable(IReadOnlyList<string> Parameters, string Metric, bool Maximize, IReadOnlyDictionary<string, double> Rows)
{
    public static string Key(IEnumerable<string> values) => string.Join('|', values);

    public double Best => Maximize ? Rows.Values.Max() : Rows.Values.Min();

    /// <summary>Each parameter's values in order (numbers ascending), as a bayes sweep with `values:` would list them.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Values => Parameters.Select((_, i) =>
    {
        var column = Rows.Keys.Select(k => k.Split('|')[i]).Distinct().ToList();
        return (IReadOnlyList<string>)(column.All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double _))
            ? column.OrderBy(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList()
            : column.Order(StringComparer.Ordinal).ToList());
    }).ToList();

    /// <summary>The space TPE searches: each column as the `values:` list of a bayes sweep (numbers in order are ordinal).</summary>
    public SearchSpace Space() => new()
    {
        Parameters = Parameters.Select((p, i) => new SearchParameter(p, null, new SearchDimension
        {
            Name = p, Values = Values[i],
            Kind = Values[i].Count >= 3 && Values[i].All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double _))
                ? DimensionKind.Ordinal : DimensionKind.Categorical,
            Prior = "values",
        })).ToList(),
    };

    /// <summary>CSV: a first line "# metric NAME maximize|minimize", a header of the parameters and the metric, one row per trial.</summary>
    public static SearchTable Load(string path)
    {
        var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToList();
        if (lines.Count < 3 || !lines[0].StartsWith("# metric ", StringComparison.Ordinal))
            throw new UserInputException($"{path}: not a search table (its first line is '# metric NAME maximize|minimize', then a CSV header and rows)");
        var head = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[1].Split(',');
        var rows = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(2))
        {
            var cells = line.Split(',');
            if (cells.Length != header.Length) throw new UserInputException($"{path}: row '{line}' has {cells.Length} cells, the header {header.Length}");
            rows[Key(cells[..^1])] = double.Parse(cells[^1], CultureInfo.InvariantCulture);
        }
        return new SearchTable(header[..^1], head[2], head.Length > 3 && head[3] == "maximize", rows);
    }

    public void Save(string path)
    {
        var csv = new StringBuilder();
        csv.Append("# metric ").Append(Metric).Append(' ').Append(Maximize ? "maximize" : "minimize").Append('\n');
        csv.Append(string.Join(',', Parameters.Append(Metric))).Append('\n');
        foreach (var (key, metric) in Rows.OrderBy(r => r.Key, StringComparer.Ordinal))
            csv.Append(key.Replace('|', ',')).Append(',').Append(metric.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, csv.ToString());
    }
}

/// <summary>One method's searches of a table: the metric of each trial, per seed.</summary>
public sealed record SearchRuns(string Method, IReadOnlyList<IReadOnlyList<double>> Runs);

/// <summary>What a method's searches found, over its seeds.</summary>
public sealed record SearchSummary(string Method, double MedianBest, double Q25Best, double Q75Best, double? MedianTrialsToTolerance, int Reached, int Seeds);

/// <summary>
/// <c>bench search</c>'s logic: TPE (ours), random and Optuna's TPESampler search the same table with the same budget
/// over many seeds; the summaries compare what each found and how fast. Every search avoids repeating a point (the
/// sweep grain draws again when TPE suggests a trial that exists), so a budget is that many distinct trials.
/// </summary>
public static class SearchBenchmark
{
    /// <summary>How close to the grid's best counts as found: 0.5 percentage points of a [0, 1] metric.</summary>
    public const double Tolerance = 0.005;

    public static SearchRuns Tpe(SearchTable table, int budget, IEnumerable<int> seeds)
    {
        var space = table.Space();
        var runs = new List<IReadOnlyList<double>>();
        foreach (var seed in seeds)
        {
            var sampler = new TpeSampler(space, table.Maximize);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var metrics = new List<double>();
            for (int trial = 0; metrics.Count < budget && trial < budget * 4; trial++)
            {
                var tried = new List<IReadOnlyDictionary<string, JsonNode>>();
                for (int attempt = 0; attempt < BayesAttempts; attempt++)
                {
                    // As the sweep grain: a point already tried is drawn again with it counted as bad.
                    var values = sampler.Suggest(new SplitMix64(Stream(seed, trial, attempt)), tried);
                    var key = SearchTable.Key(values.Select(v => v.Value.ToJsonString()));
                    if (!seen.Add(key))
                    {
                        tried.Add(values.ToDictionary(kv => kv.Key, kv => kv.Value));
                        continue;
                    }
                    var metric = table.Rows[key];
                    metrics.Add(metric);
                    sampler.Complete(values.ToDictionary(kv => kv.Key, kv => kv.Value), metric);
                    break;
                }
            }
            runs.Add(metrics);
        }
        return new SearchRuns("tpe (ours)", runs);
    }

    private const int BayesAttempts = 32;

    private static ulong Stream(int seed, int trial, int attempt) =>
        unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ ((ulong)trial + 1) * 0xBF58476D1CE4E5B9UL ^ ((ulong)attempt + 1) * 0x94D049BB133111EBUL);

    /// <summary>Distinct rows drawn uniformly (a shuffle): what `method: random` over the same `values:` lists does, without repeats.</summary>
    public static SearchRuns Random(SearchTable table, int budget, IEnumerable<int> seeds)
    {
        var rows = table.Rows.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Value).ToArray();
        var runs = new List<IReadOnlyList<double>>();
        foreach (var seed in seeds)
        {
            var rng = new SplitMix64((ulong)seed ^ 0xABCDEF);
            var order = rows.ToArray();
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = (int)rng.NextBelow((ulong)i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
            runs.Add(order.Take(budget).ToList());
        }
        return new SearchRuns("random", runs);
    }

    /// <summary>Runs the shipped Optuna script; null (with the reason) when Python or Optuna is missing.</summary>
    public static (IReadOnlyList<SearchRuns>? Runs, string? Problem) Optuna(string python, string script, string tablePath, int budget, int seeds)
    {
        var result = RunScript(python, script, ["search", tablePath, budget.ToString(CultureInfo.InvariantCulture), seeds.ToString(CultureInfo.InvariantCulture)]);
        if (result.Problem is not null) return (null, result.Problem);
        var json = JsonNode.Parse(result.Output!)!.AsArray();
        return (json.Select(m => new SearchRuns((string)m!["method"]!,
            m["runs"]!.AsArray().Select(r => (IReadOnlyList<double>)r!.AsArray().Select(x => (double)x!).ToList()).ToList())).ToList(), null);
    }

    public static SearchSummary Summarise(SearchTable table, SearchRuns runs)
    {
        var best = runs.Runs.Select(r => table.Maximize ? r.Max() : r.Min()).Order().ToList();
        var toTolerance = runs.Runs.Select(r => TrialsToTolerance(table, r)).ToList();
        var reached = toTolerance.Count(t => t is not null);
        // Runs that never came within tolerance count as taking forever: the median exists when over half did.
        var ordered = toTolerance.Select(t => t ?? double.PositiveInfinity).Order().ToList();
        double? median = Quantile(ordered, 0.5) is var m && double.IsFinite(m) ? m : null;
        return new SearchSummary(runs.Method, Quantile(best, 0.5), Quantile(best, 0.25), Quantile(best, 0.75), median, reached, runs.Runs.Count);
    }

    private static double? TrialsToTolerance(SearchTable table, IReadOnlyList<double> metrics)
    {
        for (int i = 0; i < metrics.Count; i++)
            if (table.Maximize ? metrics[i] >= table.Best - Tolerance : metrics[i] <= table.Best + Tolerance) return i + 1;
        return null;
    }

    /// <summary>Linear interpolation between order statistics (numpy's default).</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q)
    {
        if (sorted.Count == 0) return double.NaN;
        var position = q * (sorted.Count - 1);
        int lo = (int)Math.Floor(position), hi = (int)Math.Ceiling(position);
        if (double.IsInfinity(sorted[hi]) || double.IsInfinity(sorted[lo])) return sorted[hi];
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo);
    }

    /// <summary>The latency space: 4 parameters, one of each kind TPE models (log float, integer, float, categorical).</summary>
    public static readonly SweepSpec LatencySpec = SweepFile.Parse("""
        name: latency
        task: { model: mlp, dataset: mnist }
        metric: { name: test_accuracy, goal: maximize }
        method: bayes
        run_cap: 10000
        parameters:
          lr: { distribution: log_uniform_values, min: 0.0001, max: 0.1 }
          rank: { distribution: int_uniform, min: 1, max: 64 }
          dropout: { distribution: uniform, min: 0, max: 0.5 }
          bias: { distribution: categorical, values: [none, all, lora_only] }
        """, "latency.yaml");

    /// <summary>Milliseconds per suggestion with <paramref name="history"/> finished trials (a made-up objective), averaged over <paramref name="suggestions"/>.</summary>
    public static double TpeLatencyMs(int history, int suggestions)
    {
        var space = SearchSpace.Of(LatencySpec);
        var sampler = new TpeSampler(space, maximize: true);
        var rng = new SplitMix64(42);
        for (int i = 0; i < history; i++)
        {
            var p = space.Draw(rng).ToDictionary(kv => kv.Key, kv => kv.Value);
            sampler.Complete(p, LatencyObjective(p));
        }
        // Warm up until the JIT's tiered compilation has settled (tier 0, then optimised code after ~30 calls and a
        // background recompile): one call only timed whichever tier happened to run, 0.8 to 2.6 ms at 1,000 trials.
        var warm = Stopwatch.StartNew();
        for (var i = 0; i < 50 || warm.Elapsed < TimeSpan.FromMilliseconds(500); i++) sampler.Suggest(new SplitMix64((ulong)i + 1_000_000), []);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < suggestions; i++) sampler.Suggest(new SplitMix64((ulong)i + 2), []);
        return watch.Elapsed.TotalMilliseconds / suggestions;
    }

    private static double LatencyObjective(IReadOnlyDictionary<string, JsonNode> p) =>
        -Math.Pow(Math.Log10((double)p["lr"]) + 2, 2) - 0.01 * Math.Abs((long)p["rank"] - 16) - (double)p["dropout"];

    public static (double? Ms, string? Problem) OptunaLatencyMs(string python, string script, int history, int suggestions)
    {
        var result = RunScript(python, script, ["latency", history.ToString(CultureInfo.InvariantCulture), suggestions.ToString(CultureInfo.InvariantCulture)]);
        return result.Problem is not null ? (null, result.Problem) : (double.Parse(result.Output!.Trim(), CultureInfo.InvariantCulture), null);
    }

    private static (string? Output, string? Problem) RunScript(string python, string script, IReadOnlyList<string> args)
    {
        if (!File.Exists(script)) return (null, $"{script} not found");
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (var a in args) start.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? (output, null) : (null, $"{python} {script} exited {process.ExitCode}: {stderr.Result.Trim().Split('\n')[^1]}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, $"cannot run {python}: {e.Message}");
        }
    }
}
