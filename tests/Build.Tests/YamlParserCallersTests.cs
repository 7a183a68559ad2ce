using System.Text.RegularExpressions;

namespace Orchestrator.Build.Tests;

/// <summary>
/// A sweep is parsed once, where a person hands it in: the CLI's verbs that read a sweep file. What reaches the
/// grains is the typed plan; nothing behind them (grains, silo, dashboard, trainer, storage) calls the YAML parser.
/// </summary>
public sealed partial class YamlParserCallersTests
{
    /// <summary>The parser's callers outside src/Sweeps (which is the parser), each with why it may.</summary>
    private static readonly Dictionary<string, string> Allowed = new(StringComparer.Ordinal)
    {
        ["src/Client/Commands/Cluster/SweepFiles.cs"] = "run and submit read the file, then send its plan",
        ["src/Client/Commands/Local/ValidateCommand.cs"] = "validate is the parser's own verb",
        ["src/Client/Commands/Local/EstimateCommand.cs"] = "estimate reads a sweep file locally",
        ["src/Client/Commands/Local/BenchSearchCommand.cs"] = "bench search reads a sweep file locally",
        ["src/Client/Commands/Local/BenchEarlyStoppingCommand.cs"] = "bench early-stopping reads a sweep file locally",
        ["src/Client/Commands/Local/SearchBenchmark.cs"] = "the benchmark's own fixed search space",
        ["src/Grains/Sweeps/SweepSubmissions.cs"] = "the caller's side of a submission from YAML text (bench orchestrator, tests): parsed before the grain is called",
        ["src/Grains/Sweeps/LegacySweepEvents.cs"] = "journals written before plans were journaled hold only YAML: upgraded once at activation",
    };

    [GeneratedRegex(@"\bSweepFile\.(Parse|Load)\(")]
    private static partial Regex ParserCall();

    [Fact]
    public void Only_the_CLI_verbs_that_read_a_sweep_file_call_the_YAML_parser()
    {
        var src = Path.Combine(RepositoryRoot.Path, "src");
        var callers = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(RepositoryRoot.Path, f).Replace('\\', '/'))
            .Where(f => !f.StartsWith("src/Sweeps/", StringComparison.Ordinal) && ParserCall().IsMatch(File.ReadAllText(Path.Combine(RepositoryRoot.Path, f))))
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.NotEmpty(callers); // the scan finds the CLI's own callers, so it is looking in the right place
        Assert.DoesNotContain(callers, f => !Allowed.ContainsKey(f));
        Assert.DoesNotContain(callers, f => f.StartsWith("src/Silo/", StringComparison.Ordinal) || f.StartsWith("src/Dashboard/", StringComparison.Ordinal)
            || f.StartsWith("src/Trainer/", StringComparison.Ordinal) || f == "src/Grains/Sweeps/SweepGrain.cs");
    }
}
