using System.CommandLine;
using Orchestrator.Client.Commands;

var root = new RootCommand("Distributed LoRA sweep orchestrator: train every configuration of a YAML sweep on an Orleans cluster.");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);

var parseResult = root.Parse(args);
if (parseResult.Errors.Count > 0)
{
    foreach (var error in parseResult.Errors)
        Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine("Run './orchestrator --help' for the list of verbs.");
    return ExitCodes.UsageError;
}
return await parseResult.InvokeAsync();
