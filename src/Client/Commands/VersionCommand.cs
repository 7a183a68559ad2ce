using System.CommandLine;
using System.Reflection;

namespace Orchestrator.Client.Commands;

public sealed class VersionCommand() : OrchestratorCommand("version", "Print the orchestrator's version and its TorchSharp backend.")
{
    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        Console.WriteLine($"orchestrator {version}");
        return Task.FromResult(ExitCodes.Success);
    }
}
