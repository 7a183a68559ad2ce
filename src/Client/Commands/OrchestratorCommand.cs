using System.CommandLine;

namespace Orchestrator.Client.Commands;

/// <summary>One verb. Subclasses declare options as fields and implement <see cref="ExecuteAsync"/>.</summary>
public abstract class OrchestratorCommand : Command
{
    protected OrchestratorCommand(string name, string description) : base(name, description)
    {
        SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                return await ExecuteAsync(parseResult, cancellationToken);
            }
            catch (UserInputException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return e.ExitCode;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Console.Error.WriteLine("cancelled");
                return ExitCodes.Cancelled;
            }
        });
    }

    protected abstract Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken);
}

/// <summary>A user mistake: shown as one clear message, never as a stack trace.</summary>
public sealed class UserInputException(string message, int exitCode = ExitCodes.InvalidInput) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
