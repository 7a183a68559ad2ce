using System.Diagnostics;

namespace Orchestrator.Container.Tests;

/// <summary>
/// The podman command line, as the test's user runs it. podman 4.3 (Debian 12) needs the runc runtime here: crun
/// fails on this machine's cgroup layout. Secrets reach containers as variables of podman's own environment
/// (`-e NAME` without a value), never as arguments.
/// </summary>
public static class Podman
{
    public static readonly string[] GlobalOptions = ["--runtime", "runc"];

    public static async Task<CliResult> RunAsync(IEnumerable<string> args, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("podman");
        foreach (var arg in GlobalOptions.Concat(args)) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        return await ProcessRun.RunAsync(start, timeout ?? TimeSpan.FromSeconds(120), $"podman {string.Join(' ', args)}");
    }

    /// <summary>Runs podman and fails the test, with everything it printed, unless it exits 0.</summary>
    public static async Task<string> CheckedAsync(IEnumerable<string> args, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var list = args.ToList();
        var result = await RunAsync(list, timeout, environment);
        Assert.True(result.ExitCode == 0, $"podman {string.Join(' ', list)}: {result}");
        return result.Stdout.Trim();
    }
}
