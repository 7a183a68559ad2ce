using System.CommandLine;
using Orchestrator.Client.Output;
using Orchestrator.Sweeps;

namespace Orchestrator.Client.Commands.Local;

/// <summary><c>validate SWEEP.yaml</c>: parses and expands a sweep without running it.</summary>
public sealed class ValidateCommand : OrchestratorCommand
{
    private static readonly Argument<string> SweepArgument = new("sweep") { Description = "The sweep file (YAML)." };

    public ValidateCommand() : base("validate", "Check a sweep file and list the trials it expands to, without running anything.")
    {
        Arguments.Add(SweepArgument);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var path = parseResult.GetValue(SweepArgument)!;
        SweepSpec spec;
        IReadOnlyList<TrialPlan> trials;
        IReadOnlyList<SweepProblem> warnings;
        try
        {
            spec = SweepFile.Load(path, out warnings);
            trials = SweepExpander.Expand(spec);
        }
        catch (SweepValidationException e)
        {
            // One `file:line:col: message` line per problem, the form editors and CI annotate.
            foreach (var problem in e.Problems) Console.Error.WriteLine(problem.ToString());
            if (output.IsJson)
                output.Json(new { File = path, Valid = false, Problems = e.Problems });
            output.Error($"{path}: {e.Problems.Count} problem{(e.Problems.Count == 1 ? "" : "s")}; nothing was run.");
            return Task.FromResult(ExitCodes.InvalidInput);
        }

        // Warnings (e.g. a metric some trial kinds do not report) in the same file:line:col form, on stderr.
        foreach (var warning in warnings) output.Warning(warning.ToString());
        if (output.IsJson)
        {
            output.Json(new
            {
                File = path,
                Valid = true,
                Warnings = warnings,
                spec.Name,
                spec.DisplayName,
                Method = spec.Method.ToString().ToLowerInvariant(),
                spec.RunCap,
                Objectives = spec.Objectives.Select(o => new { o.Name, Goal = o.Goal.ToString().ToLowerInvariant() }),
                Model = spec.Task.Model,
                Dataset = spec.Task.Dataset,
                Metric = spec.Metric.Name,
                Goal = spec.Metric.Goal,
                TrialCount = trials.Count,
                Trials = trials.Select(t => new { t.TrialId, t.Kind, t.Parameters }),
            });
            return Task.FromResult(ExitCodes.Success);
        }

        var shownName = spec.DisplayName.Length > 0 && spec.DisplayName != spec.Name ? $"{spec.Name} (\"{spec.DisplayName}\")" : spec.Name;
        var objectives = string.Join(", ", spec.Objectives.Select(o => $"{o.Goal.ToString().ToLowerInvariant()} {o.Name}"));
        if (spec.Method == SweepMethod.Bayes)
        {
            output.Heading($"{shownName}: bayes ({spec.Task.Model} on {spec.Task.Dataset}, {objectives})");
            output.Line($"Up to {spec.RunCap} trials, suggested by TPE while the sweep runs as results arrive (the first {new Orchestrator.Sweeps.Search.TpeOptions().StartupTrials} drawn at random); nothing is planned up front.");
            output.Line($"Searching {string.Join(", ", Orchestrator.Sweeps.Search.SearchSpace.Of(spec).Dimensions.Select(d => d.Name))}.");
            output.Line($"{path} is valid.");
            return Task.FromResult(ExitCodes.Success);
        }
        output.Heading($"{shownName}: {trials.Count} trial{(trials.Count == 1 ? "" : "s")} ({spec.Task.Model} on {spec.Task.Dataset}, {objectives})");
        var keys = trials.SelectMany(t => t.Parameters.Keys).Distinct().ToList();
        output.Table(
            ["trial", "kind", .. keys],
            trials.Select(t => (IReadOnlyList<string>)[t.TrialId, t.Kind.Name(), .. keys.Select(k => t.Parameters.TryGetValue(k, out var v) ? v.ToString() : "-")]));
        output.Line($"{path} is valid.");
        return Task.FromResult(ExitCodes.Success);
    }
}
