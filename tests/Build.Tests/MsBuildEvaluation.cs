using System.Diagnostics;
using System.Text.Json;

namespace Orchestrator.Build.Tests;

/// <summary>Runs `dotnet msbuild PROJECT -getItem/-getProperty` (evaluation only, no restore or build).</summary>
internal static class MsBuildEvaluation
{
    public static string[] Items(string project, string itemType, params string[] extra)
    {
        var (exitCode, output) = Run(project, [$"-getItem:{itemType}", .. extra]);
        Assert.True(exitCode == 0, output);
        using var json = JsonDocument.Parse(output);
        return json.RootElement.GetProperty("Items").TryGetProperty(itemType, out var items)
            ? items.EnumerateArray().Select(item => item.GetProperty("Identity").GetString()!).ToArray()
            : [];
    }

    public static string Property(string project, string name)
    {
        var (exitCode, output) = Run(project, $"-getProperty:{name}");
        Assert.True(exitCode == 0, output);
        return output.Trim();
    }

    public static (int ExitCode, string Output) Run(string project, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryRoot.Path };
        start.ArgumentList.Add("msbuild");
        start.ArgumentList.Add(project);
        start.ArgumentList.Add("-nologo");
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
