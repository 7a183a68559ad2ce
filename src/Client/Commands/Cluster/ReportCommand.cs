using System.CommandLine;
using Orchestrator.Client.Output;
using Orchestrator.Client.Reports;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>`report SWEEP -o DIR`: Markdown + PNG plots of a sweep.</summary>
public sealed class ReportCommand : ClusterCommand
{
    private static readonly Argument<string> SweepArgument = SweepNameArgument();
    private static readonly Option<DirectoryInfo?> OutOption = new("--out", "-o") { Description = "Output folder (default reports/SWEEP)." };

    public ReportCommand() : base("report", "Write a sweep's study report: Markdown, plots (metric vs rank, target modules), every trial.")
    {
        Arguments.Add(SweepArgument);
        Options.Add(OutOption);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var sweep = ReadSweepName(parseResult, SweepArgument)!;
        await using var session = await ConnectAsync(parseResult, cancellationToken);
        await RequireSweepAsync(session, sweep, cancellationToken);
        var grain = session.Client.GetGrain<ISweepGrain>(sweep);
        var spec = (await grain.GetSpecAsync(cancellationToken))!;
        var trials = await grain.GetTrialsAsync(cancellationToken);
        var files = StudyReport.Write(parseResult.GetValue(OutOption)?.FullName ?? Path.Combine("reports", sweep), spec, trials);
        if (output.IsJson) output.Json(files);
        else
        {
            output.Line(files.Markdown);
            foreach (var plot in files.Plots) output.Line(plot);
        }
        return ExitCodes.Success;
    }
}
