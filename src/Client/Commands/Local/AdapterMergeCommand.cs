using System.CommandLine;
using Orchestrator.Client.Output;
using Orchestrator.Trainer.Peft;

namespace Orchestrator.Client.Commands.Local;

/// <summary>
/// <c>adapter merge --model DIR|NAME --adapter DIR -o OUT</c>: PEFT's <c>merge_and_unload</c> of a LoRA adapter into its
/// Hugging Face decoder base, written as a plain model folder (no cluster needed).
/// </summary>
public sealed class AdapterMergeCommand : OrchestratorCommand
{
    private static readonly Option<string> ModelOption = new("--model")
    {
        Description = "The base: a Hugging Face decoder folder (llama, mistral, qwen2, qwen3, gpt2), or a named decoder (imdb-llama: its cached folder, pretrained first if absent).", Required = true,
    };

    private static readonly Option<DirectoryInfo> AdapterOption = new("--adapter")
    {
        Description = "A PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) trained on that base.", Required = true,
    };

    private static readonly Option<DirectoryInfo> OutOption = new("--out", "-o")
    {
        Description = "Folder to write the merged model into (must not exist or be empty); tokenizer files are copied from the base.", Required = true,
    };

    public AdapterMergeCommand() : base("merge", "Merge a LoRA adapter into its base and write a Hugging Face folder (PEFT's merge_and_unload).")
    {
        Options.Add(ModelOption);
        Options.Add(AdapterOption);
        Options.Add(OutOption);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var model = Path.GetFullPath(LocalDecoder.FolderOf(parseResult.GetValue(ModelOption)!));
        var adapter = parseResult.GetValue(AdapterOption)!.FullName;
        var outDir = parseResult.GetValue(OutOption)!.FullName;
        if (!Directory.Exists(model)) throw new UserInputException($"--model '{model}' is not a folder.", ExitCodes.NotFound);
        if (!Directory.Exists(adapter)) throw new UserInputException($"--adapter '{adapter}' is not a folder.", ExitCodes.NotFound);
        if (File.Exists(outDir) || (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any()))
            throw new UserInputException($"-o '{outDir}' already exists and is not empty; give a new folder.", ExitCodes.UsageError);

        AdapterMergeResult result;
        try
        {
            result = AdapterMerge.MergeAndSave(model, adapter, outDir);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or ArgumentException or NotSupportedException)
        {
            throw new UserInputException(e.Message, ExitCodes.InvalidInput);
        }
        if (output.IsJson)
        {
            output.Json(new { model, adapter, output = outDir, mergedModules = result.MergedModules, replacedWeights = result.ReplacedWeights });
            return Task.FromResult(ExitCodes.Success);
        }
        output.Line($"merged {result.MergedModules.Count} LoRA module(s){(result.ReplacedWeights.Count > 0 ? $" and {result.ReplacedWeights.Count} trained weight(s)" : "")} into {outDir}");
        return Task.FromResult(ExitCodes.Success);
    }
}
