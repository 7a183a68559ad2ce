using System.CommandLine;
using Orchestrator.Client.Output;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>`cancel`, `pause` and `resume SWEEP`.</summary>
public sealed class SweepControlCommand : ClusterCommand
{
    private static readonly Argument<string> SweepArgument = SweepNameArgument();
    private readonly SweepCommand _command;

    public SweepControlCommand(SweepCommand command) : base(command.ToString().ToLowerInvariant(), command switch
    {
        SweepCommand.Pause => "Pause a sweep: running trials checkpoint and go back to the queue; nothing new starts.",
        SweepCommand.Resume => "Resume a paused sweep from its checkpoints.",
        _ => "Cancel a sweep: running trials stop, queued ones never start; finished results stay.",
    })
    {
        _command = command;
        Arguments.Add(SweepArgument);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var sweep = ReadSweepName(parseResult, SweepArgument)!;
        await using var session = await ConnectAsync(parseResult, cancellationToken);
        await RequireSweepAsync(session, sweep, cancellationToken);
        var status = await session.Client.GetGrain<ISweepGrain>(sweep).ControlAsync(_command, cancellationToken);
        if (output.IsJson) output.Json(status);
        else output.Line($"{sweep}: {status.State.ToString().ToLowerInvariant()}");
        return ExitCodes.Success;
    }
}
