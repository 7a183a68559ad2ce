using System.CommandLine;
using Orchestrator.Client.Connection;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>A verb that talks to the cluster (or the embedded silo of `--data-dir`).</summary>
public abstract class ClusterCommand(string name, string description) : OrchestratorCommand(name, description)
{
    protected static Task<ClusterSession> ConnectAsync(ParseResult parseResult, CancellationToken cancellationToken, int slots = 0) =>
        ClusterSession.ConnectAsync(ConnectionOptions.Resolve(parseResult), slots, cancellationToken);

    /// <summary>The sweep's status, or a NotFound error naming the sweeps that do exist.</summary>
    protected static async Task<SweepStatus> RequireSweepAsync(ClusterSession session, string sweep, CancellationToken cancellationToken)
    {
        if (!Orchestrator.Storage.ArtifactPaths.IsValidName(sweep))
            throw new UserInputException($"'{sweep}' is not a sweep name: use [a-z0-9-], at most 63 characters", ExitCodes.InvalidInput);
        var status = await session.Client.GetGrain<ISweepGrain>(sweep).GetStatusAsync(cancellationToken);
        if (status.State != SweepState.NotFound) return status;
        var known = await session.Client.GetGrain<ISchedulerGrain>(0).GetSweepsAsync(includeFinished: true, cancellationToken);
        throw new UserInputException(known.Count == 0
            ? $"no sweep named '{sweep}'; nothing has been submitted here yet"
            : $"no sweep named '{sweep}'; known sweeps: {string.Join(", ", known)}", ExitCodes.NotFound);
    }
}
