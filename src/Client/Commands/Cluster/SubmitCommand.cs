using Orchestrator.Grains.Sweeps;
using System.CommandLine;
using Orchestrator.Client.Connection;
using Orchestrator.Client.Output;
using Orchestrator.Client.Watching;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>`submit SWEEP.yaml [--watch]`: hands a sweep to a cluster. Resubmitting with a larger run_cap adds trials.</summary>
public sealed class SubmitCommand : ClusterCommand
{
    private static readonly Argument<FileInfo> SweepFileArgument = new("sweep") { Description = "The sweep file (YAML)." };
    private static readonly Option<bool> WatchOption = new("--watch") { Description = "Follow the sweep until it ends." };

    public SubmitCommand() : base("submit", "Submit a sweep to the cluster (--cluster / ORCHESTRATOR_CLUSTER).")
    {
        Arguments.Add(SweepFileArgument);
        Options.Add(WatchOption);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var file = parseResult.GetValue(SweepFileArgument)!;
        var spec = SweepFiles.Load(file);
        var address = ConnectionOptions.Resolve(parseResult);
        await using var session = await ClusterSession.ConnectAsync(address, 0, cancellationToken);
        var result = await session.Client.SubmitAsync(spec, cancellationToken);
        // Every refusal (invalid file, a changed spec under this name, a cancelled sweep) is the user's to fix: exit 2.
        if (!result.Accepted) throw new UserInputException(result.Message, ExitCodes.InvalidInput);
        if (output.IsJson)
            output.Json(new { sweep = spec.Name, outcome = result.Outcome.ToString().ToLowerInvariant(), result.Message, result.TrialCount, result.AddedTrials, result.SpecHash });
        else output.Line($"{spec.Name}: {result.Message}");
        if (!parseResult.GetValue(WatchOption)) return ExitCodes.Success;
        var status = await new SweepWatcher(output, TimeSpan.FromSeconds(1))
            .WatchAsync(ct => ClusterSession.ConnectAsync(address, 0, ct), session, spec.Name, cancellationToken);
        return status.State == SweepState.Finished ? ExitCodes.Success : ExitCodes.Failed;
    }
}
