using System.CommandLine;
using System.Globalization;
using Orchestrator.Client.Output;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>`trials SWEEP`: every trial with its state, attempts, metrics and error.</summary>
public sealed class TrialsCommand : ClusterCommand
{
    private static readonly Argument<string> SweepArgument = SweepNameArgument();

    public TrialsCommand() : base("trials", "List a sweep's trials: state, attempts, pack, metric, error.")
    {
        Arguments.Add(SweepArgument);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var sweep = ReadSweepName(parseResult, SweepArgument)!;
        await using var session = await ConnectAsync(parseResult, cancellationToken);
        var status = await RequireSweepAsync(session, sweep, cancellationToken);
        var trials = await session.Client.GetGrain<ISweepGrain>(sweep).GetTrialsAsync(cancellationToken);
        if (output.IsJson) { output.Json(trials); return ExitCodes.Success; }
        var parameterNames = trials.SelectMany(t => t.Parameters.Keys).Distinct().ToList();
        // The pack column only when some trial trained in a pack (the sweep's `pack` on).
        string[] pack = trials.Any(t => t.Pack is not null) ? ["pack"] : [];
        output.Table(["trial", "kind", .. parameterNames, "state", "attempts", .. pack, "step", status.Metric, "error"],
            trials.Select(t => (IReadOnlyList<string>)[t.TrialId, t.Kind.Name(), .. parameterNames.Select(p => t.Parameters.TryGetValue(p, out var v) ? v.ToString() : "-"),
                t.State.ToString().ToLowerInvariant(), t.Attempts.ToString(CultureInfo.InvariantCulture), .. pack.Select(_ => t.Pack ?? "-"),
                t.TotalSteps > 0 ? $"{t.Step}/{t.TotalSteps}" : t.Step.ToString(CultureInfo.InvariantCulture),
                t.Metric(status.Metric) is { } m ? ConsoleOutput.Number(m) : "-", t.Error ?? ""]));
        return ExitCodes.Success;
    }
}
