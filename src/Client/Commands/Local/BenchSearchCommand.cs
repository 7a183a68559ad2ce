using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Orchestrator.Client.Output;
using Orchestrator.Sweeps;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Client.Commands.Local;

/// <summary>
/// <c>bench search</c>: TPE (ours), random and Optuna's TPESampler (the shipped <c>bench/optuna_search.py</c>, run with
/// Python) search one trained grid, a budget of trials each, over many seeds; then the milliseconds per TPE
/// suggestion as the history grows, ours against Optuna's. <c>--train GRID.yaml</c> first trains every trial of a
/// grid sweep in this process and saves the table (the shipped one: <c>bench/search-grid.yaml</c>).
/// </summary>
public sealed class BenchSearchCommand : OrchestratorCommand
{
    private static readonly Option<string> TableOption = new("--table") { Description = "The trained grid (CSV).", DefaultValueFactory = _ => "bench/search-table.csv" };
    private static readonly Option<string?> TrainOption = new("--train") { Description = "Train this grid sweep first and write its table to --table." };
    private static readonly Option<int> BudgetOption = new("--budget") { Description = "Trials per search.", DefaultValueFactory = _ => 30 };
    private static readonly Option<int> SeedsOption = new("--seeds") { Description = "Searches per method, each with its own seed.", DefaultValueFactory = _ => 50 };
    private static readonly Option<string> PythonOption = new("--python") { Description = "The Python with Optuna.", DefaultValueFactory = _ => "/usr/bin/python3" };
    private static readonly Option<string> ScriptOption = new("--script") { Description = "The Optuna script.", DefaultValueFactory = _ => "bench/optuna_search.py" };
    private static readonly Option<string> LatencyOption = new("--latency") { Description = "History sizes for the latency table (comma-separated; empty: none).", DefaultValueFactory = _ => "100,1000,10000" };

    public BenchSearchCommand() : base("search", "Compare TPE (ours), random and Optuna's TPE on a trained grid, and TPE suggestion latency.")
    {
        Options.Add(TableOption);
        Options.Add(TrainOption);
        Options.Add(BudgetOption);
        Options.Add(SeedsOption);
        Options.Add(PythonOption);
        Options.Add(ScriptOption);
        Options.Add(LatencyOption);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var tablePath = parseResult.GetValue(TableOption)!;
        int budget = parseResult.GetValue(BudgetOption), seeds = parseResult.GetValue(SeedsOption);
        if (budget is < 1 or > 10_000) throw new UserInputException($"--budget {budget} is not valid: use 1 to 10000", ExitCodes.UsageError);
        if (seeds is < 1 or > 10_000) throw new UserInputException($"--seeds {seeds} is not valid: use 1 to 10000", ExitCodes.UsageError);
        var latencies = ParseSizes(parseResult.GetValue(LatencyOption)!);
        var python = parseResult.GetValue(PythonOption)!;
        var script = parseResult.GetValue(ScriptOption)!;

        if (parseResult.GetValue(TrainOption) is { } grid)
            await Task.Run(() => Train(grid, tablePath, output, cancellationToken), cancellationToken);
        if (!File.Exists(tablePath)) throw new UserInputException($"{tablePath} not found; train one with --train bench/search-grid.yaml");
        var table = SearchTable.Load(tablePath);

        var runs = new List<SearchRuns> { SearchBenchmark.Tpe(table, budget, Enumerable.Range(0, seeds)), SearchBenchmark.Random(table, budget, Enumerable.Range(0, seeds)) };
        var (optuna, problem) = SearchBenchmark.Optuna(python, script, tablePath, budget, seeds);
        if (optuna is not null) runs.AddRange(optuna);
        else output.Warning($"Optuna left out: {problem}");
        var summaries = runs.Select(r => SearchBenchmark.Summarise(table, r)).ToList();

        var latency = new List<(int History, double Ours, double? Optuna)>();
        foreach (var history in latencies)
        {
            var ours = SearchBenchmark.TpeLatencyMs(history, history >= 10_000 ? 20 : 50);
            var (theirs, why) = SearchBenchmark.OptunaLatencyMs(python, script, history, history >= 10_000 ? 3 : 10);
            if (why is not null) output.Warning($"Optuna latency at {history} left out: {why}");
            latency.Add((history, ours, theirs));
        }

        if (output.IsJson)
        {
            output.Json(new
            {
                table = tablePath, trials = table.Rows.Count, table.Metric, gridBest = table.Best, budget, seeds, tolerance = SearchBenchmark.Tolerance,
                methods = summaries, latency = latency.Select(l => new { history = l.History, oursMs = l.Ours, optunaMs = l.Optuna }),
            });
            return ExitCodes.Success;
        }
        string F(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);
        output.Heading($"{tablePath}: {table.Rows.Count} trials, best {table.Metric} {F(table.Best)}; {seeds} searches of {budget} trials per method");
        output.Table(["method", $"median best {table.Metric}", "IQR", $"median trials to within {SearchBenchmark.Tolerance * 100:0.#}pp", "searches that got there"],
            summaries.Select(s => (IReadOnlyList<string>)[s.Method, F(s.MedianBest), $"{F(s.Q25Best)}–{F(s.Q75Best)}",
                s.MedianTrialsToTolerance is { } t ? t.ToString("0.#", CultureInfo.InvariantCulture) : $"> {budget}", $"{s.Reached}/{s.Seeds}"]));
        if (latency.Count > 0)
            output.Table(["finished trials", "ours (ms per suggestion)", "Optuna 3.1 TPESampler (ms)"],
                latency.Select(l => (IReadOnlyList<string>)[l.History.ToString(CultureInfo.InvariantCulture), l.Ours.ToString("0.00", CultureInfo.InvariantCulture),
                    l.Optuna is { } o ? o.ToString("0.0", CultureInfo.InvariantCulture) : "-"]));
        return ExitCodes.Success;
    }

    private static IReadOnlyList<int> ParseSizes(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 100_000 ? n
            : throw new UserInputException($"--latency '{text}': give history sizes from 1 to 100000, comma-separated", ExitCodes.UsageError)).ToList();

    /// <summary>Trains every trial of the grid in this process (a shared pretrained base) and saves the table of the parameters that vary.</summary>
    private static void Train(string gridPath, string tablePath, ConsoleOutput output, CancellationToken cancellationToken)
    {
        SweepSpec spec;
        try
        {
            spec = SweepFile.Load(gridPath);
        }
        catch (SweepValidationException e)
        {
            throw new UserInputException(e.Message);
        }
        if (spec.Method != SweepMethod.Grid) throw new UserInputException($"{gridPath}: --train needs a grid sweep");
        var swept = spec.Parameters.Where(p => p.Value is ValuesParameter { Values.Count: > 1 }).Select(p => p.Key).ToList();
        var plans = SweepExpander.Expand(spec);
        var workDir = Path.Combine(Path.GetTempPath(), $"bench-search-{Guid.NewGuid():N}");
        // Rows go to a side file as they are trained, so an interrupted run picks up where it stopped.
        var partial = tablePath + ".partial";
        var rows = new Dictionary<string, double>(StringComparer.Ordinal);
        if (File.Exists(partial))
            foreach (var line in File.ReadAllLines(partial).Where(l => l.Contains('\t')))
                rows[line.Split('\t')[0]] = double.Parse(line.Split('\t')[1], CultureInfo.InvariantCulture);
        try
        {
            foreach (var plan in plans)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var config = JsonSerializer.SerializeToElement(plan.Config);
                var key = SearchTable.Key(swept.Select(k => config.GetProperty(k).GetRawText()));
                if (rows.ContainsKey(key)) continue;
                var request = new TrainingRequest(plan.Config, spec.Task.Base ?? new BaseModelSpec(), Path.Combine(workDir, plan.TrialId), Path.Combine(workDir, "bases"));
                var outcome = TrialTrainer.Run(request, null, cancellationToken);
                var metric = outcome.Metrics.TryGetValue(spec.Metric.Name, out var m) ? m : double.NaN;
                rows[key] = metric;
                File.AppendAllText(partial, key + "\t" + metric.ToString("R", CultureInfo.InvariantCulture) + "\n");
                output.Note($"[{rows.Count}/{plans.Count}] {string.Join(" ", swept.Select(k => $"{k}={config.GetProperty(k).GetRawText()}"))}: {spec.Metric.Name} {metric.ToString("0.0000", CultureInfo.InvariantCulture)}");
                Directory.Delete(Path.Combine(workDir, plan.TrialId), recursive: true);
            }
        }
        finally
        {
            try { Directory.Delete(workDir, recursive: true); } catch (IOException) { }
        }
        new SearchTable(swept, spec.Metric.Name, spec.Metric.Goal == MetricGoal.Maximize, rows).Save(tablePath);
        File.Delete(partial);
        output.Note($"wrote {tablePath} ({rows.Count} trials)");
    }
}
