using System.Diagnostics;

namespace Orchestrator.TestServers;

/// <summary>Runs a command to its end (or kills its tree at the timeout) and returns what it printed.</summary>
public static class ProcessRun
{
    public static async Task<CliResult> RunAsync(ProcessStartInfo start, TimeSpan timeout, string description)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            return new CliResult(-1, await stdout, await stderr + $"\n({description} timed out)");
        }
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
