using System.CommandLine;
using Orchestrator.Client.Connection;
using Orchestrator.Client.Output;
using Orchestrator.Client.Watching;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>`watch SWEEP`: live progress until the sweep ends; reconnects if the connection drops.</summary>
public sealed class WatchCommand : ClusterCommand
{
    private static readonly Argument<string> SweepArgument = SweepNameArgument();

    public WatchCommand() : base("watch", "Follow a sweep until it ends (reconnects when the connection drops).")
    {
        Arguments.Add(SweepArgument);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var sweep = ReadSweepName(parseResult, SweepArgument)!;
        var address = ConnectionOptions.Resolve(parseResult);
        await using var session = await ClusterSession.ConnectAsync(address, 0, cancellationToken);
        // No existence check before watching: the watcher's first poll is it, inside its reconnecting loop, so a gateway
        // lost during that first call is reconnected to like any other (a separate first call once exited with its timeout).
        var status = await new SweepWatcher(output, TimeSpan.FromSeconds(1))
            .WatchAsync(ct => ClusterSession.ConnectAsync(address, 0, ct), session, sweep, cancellationToken);
        if (output.IsJson) output.Json(status);
        return status.State == SweepState.Finished ? ExitCodes.Success : ExitCodes.Failed;
    }
}
