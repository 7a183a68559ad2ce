using System.Diagnostics;

namespace Orchestrator.TestServers;

/// <summary>What one run of the CLI printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>The built CLI (<c>artifacts/bin/Client/release*/orchestrator.dll</c>), run the way a user runs it.</summary>
public static class OrchestratorCli
{
    public static string RepositoryRoot { get; } = TestServers.RepositoryRoot.Find();

    public static string Dll { get; } = FindDll();

    /// <summary>`dotnet orchestrator.dll ARGS`, started as a long-lived child (a silo, `watch`, `run`) with its output in a log.</summary>
    public static ChildProcess Start(IEnumerable<string> args, string logPath, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null) =>
        ChildProcess.Start("dotnet", [Dll, .. args], logPath, workingDirectory, environment);

    /// <summary>Runs a verb to completion; on timeout the process tree is killed and the exit code is -1.</summary>
    /// <param name="environment">Variables set for the CLI on top of the test host's own.</param>
    public static async Task<CliResult> RunAsync(IEnumerable<string> args, string? workingDirectory = null, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory ?? RepositoryRoot };
        start.ArgumentList.Add(Dll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        return await ProcessRun.RunAsync(start, timeout ?? TimeSpan.FromSeconds(120), $"orchestrator {string.Join(' ', start.ArgumentList.Skip(1))}");
    }

    private static string FindDll()
    {
        var bin = Path.Combine(RepositoryRoot, "artifacts", "bin", "Client");
        var dll = Directory.Exists(bin)
            // The build's own folder (release) before any other (a `dotnet publish -r RID` leaves a stale release_RID beside it).
            ? Directory.GetDirectories(bin, "release*").OrderBy(d => Path.GetFileName(d) != "release").ThenBy(d => d, StringComparer.Ordinal)
                .Select(d => Path.Combine(d, "orchestrator.dll")).FirstOrDefault(File.Exists)
            : null;
        return dll ?? throw new InvalidOperationException($"the CLI is not built under {bin}; run dotnet build first.");
    }
}
