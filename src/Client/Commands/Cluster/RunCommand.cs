using Orchestrator.Grains.Sweeps;
using System.CommandLine;
using Orchestrator.Client.Connection;
using Orchestrator.Client.Leaderboards;
using Orchestrator.Contracts.Leaderboards;
using Orchestrator.Client.Output;
using Orchestrator.Client.Reports;
using Orchestrator.Client.Watching;
using Orchestrator.Sweeps;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>`run SWEEP.yaml`: the whole study on this machine — embedded silo, submit, live progress, leaderboard, report.</summary>
public sealed class RunCommand : ClusterCommand
{
    private static readonly Argument<FileInfo> SweepFileArgument = new("sweep") { Description = "The sweep file (YAML)." };
    private static readonly Option<int?> SlotsOption = new("--slots") { Description = "Trials trained at once (default: the sweep's parallel, at most the CPU count)." };
    private static readonly Option<DirectoryInfo?> ReportOption = new("--report") { Description = "Where the study report goes (default reports/SWEEP)." };

    public RunCommand() : base("run", "Run a sweep end to end on this machine (embedded silo): progress, leaderboard and a report with plots.")
    {
        Arguments.Add(SweepFileArgument);
        Options.Add(SlotsOption);
        Options.Add(ReportOption);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var file = parseResult.GetValue(SweepFileArgument)!;
        var spec = SweepFiles.Load(file);
        var address = ConnectionOptions.Resolve(parseResult);
        if (address.Kind != ClusterKind.Embedded)
            throw new UserInputException("run trains on this machine; to use a cluster, use 'submit --watch'", ExitCodes.UsageError);
        Local.DataPrepareCommand.EnsurePrepared(spec.Task.Dataset, output, cancellationToken);
        var slots = parseResult.GetValue(SlotsOption) ?? Math.Max(1, Math.Min(spec.Parallel, Environment.ProcessorCount));
        if (slots is < 1 or > 64) throw new UserInputException($"--slots {slots} is not valid: use 1 to 64", ExitCodes.UsageError);

        await using var session = await ClusterSession.ConnectAsync(address, slots, cancellationToken);
        if (!session.HostsSilo)
            output.Note($"another process hosts {address.DataDir}; following its silo");
        var result = await session.Client.SubmitAsync(spec, cancellationToken);
        if (!result.Accepted) throw new UserInputException(result.Message, ExitCodes.InvalidInput);
        output.Note($"{spec.Name}: {result.Message}");

        var status = await new SweepWatcher(output, TimeSpan.FromMilliseconds(500))
            .WatchAsync(ct => ClusterSession.ConnectAsync(address, slots, ct), session, spec.Name, cancellationToken);

        var grain = session.Client.GetGrain<ISweepGrain>(spec.Name);
        var trials = await grain.GetTrialsAsync(cancellationToken);
        var specView = (await grain.GetSpecAsync(cancellationToken))!;
        var reportDir = parseResult.GetValue(ReportOption)?.FullName ?? Path.Combine("reports", spec.Name);
        var report = StudyReport.Write(reportDir, specView, trials);
        var entries = await session.Client.GetGrain<ILeaderboardGrain>(ILeaderboardGrain.SweepKey(spec.Name)).GetAsync(0, cancellationToken);
        if (output.IsJson)
        {
            output.Json(new { status, report = report.Markdown, plots = report.Plots });
        }
        else
        {
            LeaderboardQuery.Write(output, LeaderboardQuery.Parse(null, null, 10).Apply(entries), LeaderboardFormat.Table);
            output.Note($"report: {report.Markdown}");
        }
        return status.Succeeded + status.Pruned > 0 || status.Total == 0 ? ExitCodes.Success : ExitCodes.Failed;
    }
}
