using System.CommandLine;

namespace Orchestrator.Client.Commands.Local;

/// <summary>
/// <c>bench</c>: the parent of the benchmark verbs. <c>bench trainer</c> and <c>bench pack</c> are built in; other benchmarks
/// (<c>bench orchestrator</c>, <c>bench early-stopping</c>) are passed to the constructor.
/// </summary>
public sealed class BenchCommand : Command
{
    public BenchCommand(params IEnumerable<Command> more) : base("bench", "Benchmarks: training throughput and orchestration overhead.")
    {
        Subcommands.Add(new BenchTrainerCommand());
        Subcommands.Add(new BenchPackCommand());
        Subcommands.Add(new BenchMemoryCommand());
        foreach (var command in more) Subcommands.Add(command);
    }
}
