using System.CommandLine;
using Orchestrator.Client.Output;
using Orchestrator.Contracts.Workers;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>`workers`: every trainer slot the scheduler has heard from, its silo, device and what it runs.</summary>
public sealed class WorkersCommand : ClusterCommand
{
    public WorkersCommand() : base("workers", "List the cluster's trainer slots: silo, device, and the trial each runs.")
    {
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        await using var session = await ConnectAsync(parseResult, cancellationToken);
        var ids = await session.Client.GetGrain<ISchedulerGrain>(0).GetWorkerIdsAsync(cancellationToken);
        var infos = new List<WorkerInfo>();
        foreach (var id in ids)
            if (await session.Client.GetGrain<IWorkerGrain>(id).GetInfoAsync(cancellationToken) is { } info) infos.Add(info);
        if (output.IsJson) { output.Json(infos); return ExitCodes.Success; }
        if (infos.Count == 0) { output.Line("no workers have asked for work in the last minute"); return ExitCodes.Success; }
        output.Table(["worker", "silo", "device", "accelerator", "sweep", "trial", "step", "last seen"],
            infos.Select(i => (IReadOnlyList<string>)[i.WorkerId, i.Silo, i.Device, i.Accelerator, i.Sweep ?? "-",
                i.TrialId is null ? "idle" : i.Pack is { } pack ? $"{i.TrialId} (pack {pack})" : i.TrialId,
                i.TotalSteps > 0 ? $"{i.Step}/{i.TotalSteps}" : "-", $"{(DateTimeOffset.UtcNow - i.LastSeen).TotalSeconds:0}s ago{(i.Draining ? " (draining)" : "")}"]));
        return ExitCodes.Success;
    }
}
