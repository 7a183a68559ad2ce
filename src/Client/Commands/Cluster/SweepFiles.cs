using Orchestrator.Sweeps;

namespace Orchestrator.Client.Commands.Cluster;

/// <summary>Reads and checks a sweep file before anything is sent: every problem as `file:line:col: message`; warnings go to stderr.</summary>
public static class SweepFiles
{
    /// <summary>The parsed sweep, named by the file's name (not its path) in the journal and in messages.</summary>
    public static SweepSpec Load(FileInfo file)
    {
        if (!file.Exists) throw new UserInputException($"sweep file '{file.FullName}' does not exist", ExitCodes.InvalidInput);
        try
        {
            var spec = SweepFile.Load(file.FullName, out var warnings);
            foreach (var warning in warnings) Console.Error.WriteLine($"warning: {warning}");
            return SweepExpander.WithSourceName(spec, file.Name);
        }
        catch (SweepValidationException e)
        {
            throw new UserInputException(
                $"{file.Name}: {e.Problems.Count} problem{(e.Problems.Count == 1 ? "" : "s")}; nothing was submitted\n" +
                string.Join('\n', e.Problems.Select(p => p.ToString())), ExitCodes.InvalidInput);
        }
    }
}
