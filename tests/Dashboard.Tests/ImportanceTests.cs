using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Orchestrator.Dashboard.Importance;

namespace Orchestrator.Dashboard.Tests;

/// <summary>The importance the sweep page shows: fANOVA over an ML.NET random forest, checked against Optuna's.</summary>
public sealed class ImportanceTests
{
    private static readonly string RepositoryRoot = FindRepositoryRoot();

    [Fact]
    public void On_the_shipped_search_table_the_top_parameter_and_the_order_of_the_top_three_match_optunas_fanova()
    {
        var table = Path.Combine(RepositoryRoot, "bench", "search-table.csv");
        var (parameters, trials) = ReadTable(table);

        var ours = ForestImportance.Evaluate(trials, parameters);
        var optuna = OptunaFanova(table);

        var ourOrder = ours.Select(i => i.Parameter).ToList();
        var optunaOrder = optuna.Keys.ToList();
        var shown = $"ours {string.Join(", ", ours.Select(i => $"{i.Parameter} {i.Share:F4}"))}; optuna {string.Join(", ", optuna.Select(kv => $"{kv.Key} {kv.Value:F4}"))}";
        Assert.True(optunaOrder[0] == ourOrder[0], shown);
        Assert.True(optunaOrder.Take(3).SequenceEqual(ourOrder.Take(3)), shown);
        Assert.Equal(1, ours.Sum(i => i.Share), 6);
    }

    [Fact]
    public void Alpha_tied_to_rank_is_one_group_that_takes_the_credit_instead_of_two_bars()
    {
        // alpha = 2·rank in every trial; lr matters a little, rank a lot.
        var trials = (from rank in new[] { 1, 2, 4, 8, 16 }
                      from lr in new[] { 1e-3, 3e-3, 1e-2 }
                      select ((IReadOnlyDictionary<string, ParameterValue>)new Dictionary<string, ParameterValue>
                      {
                          ["rank"] = ParameterValue.Of(rank), ["alpha"] = ParameterValue.Of(2 * rank), ["lr"] = ParameterValue.Of(lr),
                      }, 0.5 + 0.1 * Math.Log2(rank) + (lr == 3e-3 ? 0.02 : 0))).ToList();

        var importance = ForestImportance.Evaluate(trials, ["rank", "alpha", "lr"]);

        Assert.Equal(["rank ≡ alpha", "lr"], importance.Select(i => i.Parameter));
        Assert.Equal(["rank", "alpha"], importance[0].Members);
        Assert.True(importance[0].Share > 0.9, $"rank ≡ alpha explains {importance[0].Share:F3}");
    }

    [Fact]
    public void Strongly_but_not_perfectly_correlated_parameters_are_named_beside_each_other()
    {
        var trials = new (int Rank, int Alpha, double Score)[] { (1, 1, 0.5), (2, 2, 0.6), (4, 4, 0.7), (8, 16, 0.8), (16, 8, 0.85), (1, 2, 0.52) }
            .Select(t => ((IReadOnlyDictionary<string, ParameterValue>)new Dictionary<string, ParameterValue>
            {
                ["rank"] = ParameterValue.Of(t.Rank), ["alpha"] = ParameterValue.Of(t.Alpha),
            }, t.Score)).ToList();

        var importance = ForestImportance.Evaluate(trials, ["rank", "alpha"]);

        Assert.Equal(2, importance.Count);
        var rank = importance.Single(i => i.Parameter == "rank");
        Assert.Equal("alpha", Assert.Single(rank.CorrelatedWith).Parameter);
        Assert.InRange(rank.CorrelatedWith[0].Spearman, 0.7, 0.99);
    }

    [Fact]
    public void Two_parameters_that_never_repeat_a_value_are_not_tied_by_that_alone()
    {
        var rng = new Random(3);
        var trials = Enumerable.Range(0, 40).Select(i => ((IReadOnlyDictionary<string, ParameterValue>)new Dictionary<string, ParameterValue>
        {
            ["lr"] = ParameterValue.Of(Math.Pow(10, -4 + 3 * rng.NextDouble())), ["seed"] = ParameterValue.Of((long)i),
        }, rng.NextDouble())).ToList();

        Assert.Equal(["lr", "seed"], ForestImportance.Evaluate(trials, ["lr", "seed"]).Select(i => i.Parameter).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Too_few_finished_trials_or_nothing_varied_give_no_importance()
    {
        var one = new Dictionary<string, ParameterValue> { ["rank"] = ParameterValue.Of(4) };
        Assert.Empty(ForestImportance.Evaluate([(one, 0.5), (one, 0.6), (one, 0.7), (one, 0.8)], ["rank"]));
        Assert.Empty(ForestImportance.Evaluate([(one, 0.5)], ["rank"]));
    }

    private static (List<string> Parameters, List<(IReadOnlyDictionary<string, ParameterValue>, double)> Trials) ReadTable(string path)
    {
        var lines = File.ReadAllLines(path).Where(l => !l.StartsWith('#') && l.Length > 0).ToList();
        var header = lines[0].Split(',');
        var parameters = header[..^1].ToList();
        var trials = lines.Skip(1).Select(l => l.Split(',')).Select(cells => (
            (IReadOnlyDictionary<string, ParameterValue>)parameters.Select((p, i) => (p, ParameterValue.Of(double.Parse(cells[i], CultureInfo.InvariantCulture))))
                .ToDictionary(x => x.p, x => x.Item2),
            double.Parse(cells[^1], CultureInfo.InvariantCulture))).ToList();
        return (parameters, trials);
    }

    private static Dictionary<string, double> OptunaFanova(string table)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "References", "fanova_importance.py");
        var start = new ProcessStartInfo("/usr/bin/python3", [script, table]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"the Optuna reference failed (scripts/setup.sh --test installs python3-optuna and python3-sklearn): {stderr.Result}");
        return JsonSerializer.Deserialize<Dictionary<string, double>>(stdout.Result)!
            .OrderByDescending(kv => kv.Value).ToDictionary();
    }

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Orchestrator.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Orchestrator.sln not found above " + AppContext.BaseDirectory);
    }
}
