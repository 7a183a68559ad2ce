using System.CommandLine;
using Orchestrator.Client.Commands;

var root = new RootCommand("Distributed LoRA sweep orchestrator: train every configuration of a YAML sweep on an Orleans cluster.");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);
foreach (var option in Orchestrator.Client.Connection.ConnectionOptions.All)
    root.Options.Add(option);

var parseResult = root.Parse(args);
if (parseResult.Errors.Count > 0)
{
    // An unknown verb also produces "Required command was not provided"; the unknown verb is the useful part.
    var unknownVerb = parseResult.CommandResult.Command == root && parseResult.UnmatchedTokens.Count > 0
        ? parseResult.UnmatchedTokens[0]
        : null;
    if (unknownVerb is not null)
    {
        var verbs = string.Join(", ", root.Subcommands.Select(c => c.Name));
        Console.Error.WriteLine($"error: unknown verb '{unknownVerb}'. Verbs: {verbs}.");
    }
    else
    {
        foreach (var error in parseResult.Errors)
            Console.Error.WriteLine($"error: {error.Message}");
    }
    Console.Error.WriteLine("Run './orchestrator --help' for usage.");
    return ExitCodes.UsageError;
}
// Ctrl+C / SIGTERM cancel the verb's token at once. System.CommandLine then force-exits (143) after 2 s by default,
// which cut a silo's drain short (checkpoint, hand-back, leaving the cluster: seconds under load) and killed it
// before it handed its trials back. The silo's own shutdown timeout (SiloHostOptions.ShutdownTimeout, 120 s) bounds
// the drain; this only backstops a verb that ignores its token, inside Kubernetes' 180 s grace period.
return await parseResult.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(150) });
