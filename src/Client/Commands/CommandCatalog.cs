using System.CommandLine;

namespace Orchestrator.Client.Commands;

/// <summary>Every verb of `./orchestrator`, in the order `--help` lists them.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return new VersionCommand();
    }
}
