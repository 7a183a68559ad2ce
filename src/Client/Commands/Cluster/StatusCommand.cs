using System.CommandLine;
using Orchestrator.Client.Output;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>`status [SWEEP]`: one sweep's counts and best result, or every sweep.</summary>
public sealed class StatusCommand : ClusterCommand
{
    private static readonly Argument<string> SweepArgument = SweepNameArgument("Sweep name (all sweeps when omitted).", optional: true);

    public StatusCommand() : base("status", "Show the state of one sweep, or of every sweep.")
    {
        Arguments.Add(SweepArgument);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var named = ReadSweepName(parseResult, SweepArgument);
        await using var session = await ConnectAsync(parseResult, cancellationToken);
        var statuses = new List<SweepStatus>();
        if (named is { } sweep)
            statuses.Add(await RequireSweepAsync(session, sweep, cancellationToken));
        else
            foreach (var name in await session.Client.GetGrain<ISchedulerGrain>(0).GetSweepsAsync(true, cancellationToken))
                statuses.Add(await session.Client.GetGrain<ISweepGrain>(name).GetStatusAsync(cancellationToken));

        if (output.IsJson) { output.Json(statuses); return ExitCodes.Success; }
        if (statuses.Count == 0) { output.Line("no sweeps"); return ExitCodes.Success; }
        output.Table(["sweep", "state", "total", "queued", "running", "succeeded", "pruned", "failed", "best trial", "best"],
            statuses.Select(s => (IReadOnlyList<string>)[s.Name, s.State.ToString().ToLowerInvariant(), s.Total.ToString(), s.Queued.ToString(),
                s.Running.ToString(), s.Succeeded.ToString(), s.Pruned.ToString(), s.Failed.ToString(), s.BestTrial ?? "-",
                s.BestMetric is { } b ? $"{s.Metric} {ConsoleOutput.Number(b)}" : "-"]));
        return ExitCodes.Success;
    }
}
