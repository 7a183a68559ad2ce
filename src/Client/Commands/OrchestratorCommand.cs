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
            catch (Exception e) when (Environment.GetEnvironmentVariable("ORCHESTRATOR_DEBUG") is null)
            {
                // Not a user mistake: say what failed in one line; ORCHESTRATOR_DEBUG=1 shows the stack trace.
                Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message.Split('\n')[0]} (set ORCHESTRATOR_DEBUG=1 for details)");
                return ExitCodes.Failed;
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
