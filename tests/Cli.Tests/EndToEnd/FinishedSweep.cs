using Orchestrator.TestServers;
using System.Text.Json;

namespace Orchestrator.Cli.Tests.EndToEnd;

/// <summary>
/// A small sweep (two LoRA trials and a full fine-tuning baseline, with an ASHA rule so `bench early-stopping` takes
/// the same file) run to its end by `run --json` in its own data dir, for verbs to be run against.
/// </summary>
public sealed class FinishedSweep : IAsyncLifetime
{
    public const string Name = "machine-output";

    /// <summary>The embedded silo logs its own categories at Debug: the chattiest a user can make it.</summary>
    public static readonly IReadOnlyDictionary<string, string> ChattyHost = new Dictionary<string, string>
    {
        ["Logging__LogLevel__Default"] = "Debug",
        ["ORCHESTRATOR_DEBUG"] = "1",
    };

    private static readonly string Spec = new MnistTestSweep(Name)
    {
        Parallel = 2, Baselines = "[full]", EarlyTerminate = "{ type: asha, min_iter: 1, max_iter: 2, eta: 2, brackets: 1 }",
        Rank = "{ values: [2, 4] }", BatchSize = 128, MaxSteps = 20, EvalEvery = 10,
    }.Yaml;

    public string Work { get; } = Directory.CreateTempSubdirectory("orchestrator-machine-output-").FullName;
    public string DataDir => Path.Combine(Work, "data");
    public string File => Path.Combine(Work, Name + ".yaml");
    /// <summary>What `run --json` printed.</summary>
    public CliResult Run { get; private set; } = new(-1, "", "");
    /// <summary>A LoRA trial of the sweep (one with an adapter).</summary>
    public string LoraTrial { get; private set; } = "";

    /// <summary>A fresh folder under <see cref="Work"/> for a verb to write into.</summary>
    public string NewFolder(string name) => Directory.CreateDirectory(Path.Combine(Work, "out", $"{name}-{Guid.NewGuid():N}")).FullName;

    public async Task InitializeAsync()
    {
        await System.IO.File.WriteAllTextAsync(File, Spec);
        Run = await CliProcess.RunAsync(["run", File, "--data-dir", DataDir, "--report", NewFolder("report"), "--json"], Work, TimeSpan.FromMinutes(6), ChattyHost);
        var trials = await CliProcess.RunAsync(["trials", Name, "--data-dir", DataDir, "--json"], Work, TimeSpan.FromMinutes(2));
        if (Run.ExitCode != 0 || trials.ExitCode != 0) throw new InvalidOperationException($"the sweep did not run:\n{Run}\n{trials}");
        LoraTrial = JsonDocument.Parse(trials.Stdout).RootElement.EnumerateArray()
            .First(t => t.GetProperty("kind").GetString() == "lora").GetProperty("trialId").GetString()!;
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(Work, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}
