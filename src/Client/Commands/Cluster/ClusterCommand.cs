using System.CommandLine;
using Orchestrator.Client.Connection;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>A verb that talks to the cluster (or the embedded silo of `--data-dir`).</summary>
public abstract class ClusterCommand(string name, string description) : OrchestratorCommand(name, description)
{
    protected static Task<ClusterSession> ConnectAsync(ParseResult parseResult, CancellationToken cancellationToken, int slots = 0) =>
        ClusterSession.ConnectAsync(ConnectionOptions.Resolve(parseResult), slots, cancellationToken);

    /// <summary>The SWEEP argument of every verb that names a sweep; read it with <see cref="ReadSweepName"/>.</summary>
    protected static Argument<string> SweepNameArgument(string description = "Sweep name.", bool optional = false) =>
        new("sweep") { Description = description, Arity = optional ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne };

    /// <summary>
    /// The sweep name given on the command line (null when an optional one is omitted), checked against
    /// <see cref="SweepName"/> before anything connects: an invalid one exits 2 naming the rule.
    /// </summary>
    protected static string? ReadSweepName(ParseResult parseResult, Argument<string> argument) =>
        parseResult.GetValue(argument) is { } name ? CheckSweepName(name) : null;

    /// <summary>Exit 2 (<see cref="ExitCodes.InvalidInput"/>) with the rule's message when <paramref name="name"/> cannot name a sweep.</summary>
    protected static string CheckSweepName(string name) =>
        SweepName.Check(name) is { } problem ? throw new UserInputException(problem, ExitCodes.InvalidInput) : name;

    /// <summary>The sweep's status, or a NotFound error naming the sweeps that do exist.</summary>
    protected static async Task<SweepStatus> RequireSweepAsync(ClusterSession session, string sweep, CancellationToken cancellationToken)
    {
        CheckSweepName(sweep);
        var status = await session.Client.GetGrain<ISweepGrain>(sweep).GetStatusAsync(cancellationToken);
        if (status.State != SweepState.NotFound) return status;
        throw await SweepNotFoundAsync(session, sweep, cancellationToken);
    }

    /// <summary>The NotFound error for <paramref name="sweep"/>, naming the sweeps that do exist.</summary>
    internal static async Task<UserInputException> SweepNotFoundAsync(ClusterSession session, string sweep, CancellationToken cancellationToken)
    {
        var known = await session.Client.GetGrain<ISchedulerGrain>(0).GetSweepsAsync(includeFinished: true, cancellationToken);
        return new UserInputException(known.Count == 0
            ? $"no sweep named '{sweep}'; nothing has been submitted here yet"
            : $"no sweep named '{sweep}'; known sweeps: {string.Join(", ", known)}", ExitCodes.NotFound);
    }
}
