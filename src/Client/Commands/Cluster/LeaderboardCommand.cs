using Orchestrator.Sweeps.Pareto;
using System.CommandLine;
using Orchestrator.Client.Leaderboards;
using Orchestrator.Client.Output;
using Orchestrator.Contracts.Leaderboards;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>`leaderboard SWEEP [--top N] [--by METRIC] [--where EXPR] [--format table|json|csv]` or `leaderboard --global --model M --dataset D`.</summary>
public sealed class LeaderboardCommand : ClusterCommand
{
    private static readonly Argument<string> SweepArgument = SweepNameArgument(optional: true);
    private static readonly Option<int?> TopOption = new("--top") { Description = "Show the best N." };
    private static readonly Option<string?> ByOption = new("--by") { Description = "Rank by this metric (default: the sweep's)." };
    private static readonly Option<string?> WhereOption = new("--where") { Description = "Filter, e.g. \"rank>=8 and kind=lora\"." };
    private static readonly Option<string?> FormatOption = new("--format") { Description = "table (default), json or csv." };
    private static readonly Option<bool> GlobalOption = new("--global") { Description = "Across sweeps: the best per model + dataset + metric." };
    private static readonly Option<string?> ModelOption = new("--model") { Description = "With --global: the model." };
    private static readonly Option<string?> DatasetOption = new("--dataset") { Description = "With --global: the dataset." };
    private static readonly Option<string?> MetricOption = new("--metric") { Description = "With --global: the metric (default test_accuracy)." };
    private static readonly Option<bool> ParetoOption = new("--pareto") { Description = "Only the non-dominated trials on the sweep's objectives (metrics:, or its metric and trainable_params)." };

    public LeaderboardCommand() : base("leaderboard", "Rank a sweep's trials (or all sweeps' on a model + dataset) by their metric.")
    {
        Arguments.Add(SweepArgument);
        foreach (var option in new Option[] { TopOption, ByOption, WhereOption, FormatOption, GlobalOption, ModelOption, DatasetOption, MetricOption, ParetoOption, ConsoleOutput.JsonOption })
            Options.Add(option);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        LeaderboardQuery query;
        LeaderboardFormat format;
        try
        {
            query = LeaderboardQuery.Parse(parseResult.GetValue(WhereOption), parseResult.GetValue(ByOption), parseResult.GetValue(TopOption));
            format = parseResult.GetValue(ConsoleOutput.JsonOption) ? LeaderboardFormat.Json : LeaderboardQuery.ParseFormat(parseResult.GetValue(FormatOption));
        }
        catch (Exception e) when (e is FilterSyntaxException or FormatException or ArgumentOutOfRangeException)
        {
            throw new UserInputException(e.Message.Split(" (Parameter")[0], ExitCodes.InvalidInput);
        }
        // --format json or csv is a document for scripts, as --json is: notes (the Pareto count) go to stderr.
        var output = ConsoleOutput.Create(machine: format != LeaderboardFormat.Table);

        var named = ReadSweepName(parseResult, SweepArgument);
        await using var session = await ConnectAsync(parseResult, cancellationToken);
        string key;
        IReadOnlyList<MetricObjective>? pareto = null;
        if (parseResult.GetValue(ParetoOption) && parseResult.GetValue(GlobalOption))
            throw new UserInputException("--pareto ranks one sweep's trials; name the sweep instead of --global", ExitCodes.UsageError);
        if (parseResult.GetValue(GlobalOption))
        {
            var model = parseResult.GetValue(ModelOption) ?? throw new UserInputException("--global needs --model and --dataset", ExitCodes.UsageError);
            var dataset = parseResult.GetValue(DatasetOption) ?? throw new UserInputException("--global needs --model and --dataset", ExitCodes.UsageError);
            key = ILeaderboardGrain.GlobalKey(model, dataset, parseResult.GetValue(MetricOption) ?? "test_accuracy");
        }
        else
        {
            var sweep = named ?? throw new UserInputException("name a sweep, or use --global --model M --dataset D", ExitCodes.UsageError);
            await RequireSweepAsync(session, sweep, cancellationToken);
            key = ILeaderboardGrain.SweepKey(sweep);
            if (parseResult.GetValue(ParetoOption) && await session.Client.GetGrain<ISweepGrain>(sweep).GetSpecAsync(cancellationToken) is { } spec)
                pareto = ParetoFront.Objectives(spec);
        }
        var entries = await session.Client.GetGrain<ILeaderboardGrain>(key).GetAsync(0, cancellationToken);
        IReadOnlyList<RankedEntry> ranked;
        if (pareto is not null)
        {
            var front = ParetoFront.Of(entries, e => e.Trial, pareto);
            output.Note($"Pareto front of {pareto.Describe()}: {front.Count} of {entries.Count} trials");
            entries = front;
        }
        try { ranked = query.Apply(entries); }
        catch (FilterSyntaxException e) { throw new UserInputException(e.Message, ExitCodes.InvalidInput); }
        LeaderboardQuery.Write(output, ranked, format);
        return ExitCodes.Success;
    }
}
