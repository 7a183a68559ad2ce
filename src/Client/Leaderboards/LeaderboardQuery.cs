using System.Globalization;
using System.Text;
using System.Text.Json;
using Orchestrator.Client.Output;
using Orchestrator.Contracts.Leaderboards;

namespace Orchestrator.Client.Leaderboards;

public enum LeaderboardFormat { Table, Json, Csv }

/// <summary>One leaderboard line after filtering and sorting: its 1-based position and the score it was ranked by.</summary>
public sealed record RankedEntry(int Position, LeaderboardEntry Entry, string Metric, double? Score)
{
    public TrialRecord Trial => Entry.Trial;
    public bool Pruned => Entry.Trial.Pruned;
}

/// <summary>
/// What <c>leaderboard</c> shows: <c>--where</c> filter, <c>--by</c> metric (sorted by its goal: maximize →
/// descending), <c>--top</c> N, and the table/json/csv renderings. Pure: works on entries already fetched.
/// </summary>
public sealed record LeaderboardQuery(LeaderboardFilter Filter, string? By = null, int? Top = null)
{
    /// <summary>Metric names whose goal is to go down when <c>--by</c> names a metric other than the sweep's own.</summary>
    private static readonly string[] LowerIsBetter = ["loss", "perplexity", "ppl", "error", "mse", "mae", "rmse", "seconds", "time", "memory"];

    /// <summary>Builds a query from the verb's options.</summary>
    /// <exception cref="FilterSyntaxException">The <c>--where</c> expression is malformed.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="top"/> is not positive.</exception>
    public static LeaderboardQuery Parse(string? where, string? by = null, int? top = null)
    {
        if (top is <= 0) throw new ArgumentOutOfRangeException(nameof(top), top, "--top must be a positive number of entries");
        return new LeaderboardQuery(LeaderboardFilter.Parse(where), string.IsNullOrWhiteSpace(by) ? null : by.Trim(), top);
    }

    /// <summary>Reads <c>--format</c>.</summary>
    /// <exception cref="FormatException">Not one of table, json, csv.</exception>
    public static LeaderboardFormat ParseFormat(string? format) => format?.Trim().ToLowerInvariant() switch
    {
        null or "" or "table" => LeaderboardFormat.Table,
        "json" => LeaderboardFormat.Json,
        "csv" => LeaderboardFormat.Csv,
        _ => throw new FormatException($"unknown format '{format}'; allowed: table, json, csv"),
    };

    /// <summary>
    /// True when a higher value of <paramref name="metric"/> is better: the sweep's own goal for its metric, otherwise
    /// lower-is-better for loss-like names (loss, perplexity, error, time...) and higher-is-better for the rest.
    /// </summary>
    public static bool IsMaximized(string metric, IReadOnlyList<LeaderboardEntry> entries)
    {
        var own = entries.FirstOrDefault(e => string.Equals(e.Objective.Name, metric, StringComparison.OrdinalIgnoreCase));
        if (own is not null) return own.Objective.Maximize;
        var lower = metric.ToLowerInvariant();
        return !LowerIsBetter.Any(lower.Contains);
    }

    /// <summary>Filters, sorts (best first, entries without the metric last, ties by trial id) and cuts to <see cref="Top"/>.</summary>
    /// <exception cref="FilterSyntaxException">A filter field is known to no entry.</exception>
    public IReadOnlyList<RankedEntry> Apply(IReadOnlyList<LeaderboardEntry> entries)
    {
        Filter.CheckFields(entries);
        var metric = By ?? entries.FirstOrDefault()?.Objective.Name ?? "";
        var objective = new MetricObjective(metric, IsMaximized(metric, entries));
        var ordered = objective.RankTrials(entries.Where(Filter.Matches), e => e.Trial.Metric(metric), e => e.Trial.Pruned, e => e.Trial.TrialId);
        var cut = Top is { } top ? ordered.Take(top) : ordered;
        return cut.Select((e, i) => new RankedEntry(i + 1, e, metric, e.Trial.Metric(metric))).ToList();
    }

    // ---- renderings --------------------------------------------------------------------------------------------

    /// <summary>Column headers and cells shared by the table and CSV forms. The place is `position`: `rank` is the LoRA rank.</summary>
    public static (IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<string>> Rows) Cells(IReadOnlyList<RankedEntry> rows)
    {
        var parameterKeys = rows.SelectMany(r => r.Trial.Parameters.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var metric = rows.FirstOrDefault()?.Metric;
        var otherMetrics = rows.SelectMany(r => r.Trial.Metrics.Keys).Distinct().Where(k => k != metric).Order(StringComparer.Ordinal).ToList();
        var headers = new List<string> { "position", "trial", "kind" };
        if (metric is not null) headers.Add(metric);
        headers.AddRange(otherMetrics);
        headers.AddRange(parameterKeys);
        headers.Add("trainable");
        // Peak memory only when some trial measured it (trials recorded before it have none).
        var measured = rows.Any(r => r.Trial.PeakMemoryBytes is not null);
        if (measured) headers.Add("peak_memory_bytes");
        headers.Add("pruned");
        // The pack a trial trained in, only when some did (the sweep's `pack` on).
        var packed = rows.Any(r => r.Trial.Pack is not null);
        if (packed) headers.Add("pack");
        var cells = rows.Select(r =>
        {
            var row = new List<string> { r.Position.ToString(CultureInfo.InvariantCulture), r.Trial.TrialId, r.Trial.Kind.Name() };
            if (metric is not null) row.Add(r.Score is { } s ? ConsoleOutput.Number(s) : "-");
            row.AddRange(otherMetrics.Select(m => r.Trial.Metrics.TryGetValue(m, out var v) ? ConsoleOutput.Number(v) : "-"));
            row.AddRange(parameterKeys.Select(k => r.Trial.Parameters.TryGetValue(k, out var v) ? v.ToString() : "-"));
            row.Add(r.Trial.TrainableParameters.ToString(CultureInfo.InvariantCulture));
            if (measured) row.Add(r.Trial.PeakMemoryBytes is { } peak ? peak.ToString(CultureInfo.InvariantCulture) : "-");
            row.Add(r.Pruned ? "pruned" : "");
            if (packed) row.Add(r.Trial.Pack ?? "-");
            return (IReadOnlyList<string>)row;
        }).ToList();
        return (headers, cells);
    }

    /// <summary>RFC 4180: CRLF line ends; fields holding a comma, quote, CR or LF are quoted, quotes doubled.</summary>
    public static string ToCsv(IReadOnlyList<RankedEntry> rows)
    {
        var (headers, cells) = Cells(rows);
        var csv = new StringBuilder();
        csv.Append(string.Join(',', headers.Select(CsvField))).Append("\r\n");
        foreach (var row in cells)
            csv.Append(string.Join(',', row.Select(c => CsvField(c == "-" ? "" : c)))).Append("\r\n");
        return csv.ToString();
    }

    public static string CsvField(string value) =>
        value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    /// <summary>The JSON form: an array of entries, best first; parameter values keep their types (numbers, lists).</summary>
    public static string ToJson(IReadOnlyList<RankedEntry> rows) => JsonSerializer.Serialize(rows.Select(r => new
    {
        position = r.Position,
        sweep = r.Trial.Sweep,
        trialId = r.Trial.TrialId,
        kind = r.Trial.Kind,
        metric = r.Metric,
        score = r.Score,
        pruned = r.Pruned,
        pack = r.Trial.Pack,
        trainableParameters = r.Trial.TrainableParameters,
        peakMemoryBytes = r.Trial.PeakMemoryBytes,
        parameters = r.Trial.Parameters,
        metrics = r.Trial.Metrics,
        recordedAt = r.Entry.RecordedAt,
    }), ConsoleOutput.JsonOptions);

    /// <summary>Writes <paramref name="rows"/> in <paramref name="format"/>; the table marks pruned entries.</summary>
    public static void Write(ConsoleOutput output, IReadOnlyList<RankedEntry> rows, LeaderboardFormat format, TextWriter? stdout = null)
    {
        stdout ??= Console.Out;
        switch (format)
        {
            case LeaderboardFormat.Json:
                stdout.WriteLine(ToJson(rows));
                break;
            case LeaderboardFormat.Csv:
                stdout.Write(ToCsv(rows));
                break;
            default:
                if (output.IsJson) { stdout.WriteLine(ToJson(rows)); break; }
                var (headers, cells) = Cells(rows);
                output.Table(headers, cells);
                if (rows.Any(r => r.Pruned)) output.Line("pruned: stopped early by the sweep's early-termination rule; its score is from its last evaluation.");
                break;
        }
    }
}
