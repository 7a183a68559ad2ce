using System.Text.RegularExpressions;

namespace Orchestrator.Cli.Tests;

/// <summary>`silo` option handling through the real binary: what a new user sees before any silo starts.</summary>
public sealed class SiloVerbTests
{
    [Fact]
    public async Task Silo_help_lists_each_option_once()
    {
        var result = await CliProcess.RunAsync(["silo", "--help"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var option in new[] { "--cluster", "--storage", "--data-dir", "--slots", "--device", "--silo-port", "--gateway-port", "--http-port" })
        {
            var listed = Regex.Matches(result.Stdout, $@"^\s+{Regex.Escape(option)}\b", RegexOptions.Multiline).Count;
            Assert.True(listed == 1, $"{option} is listed {listed} times:\n{result.Stdout}");
        }
    }

    /// <summary>Runs <paramref name="args"/> (given a fresh data dir) and deletes the data dir whatever happens.</summary>
    private static async Task<CliResult> RunWithDataDirAsync(Func<string, string[]> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "silo-verb-" + Guid.NewGuid().ToString("N"));
        try
        {
            return await CliProcess.RunAsync(args(dataDir), environment: environment);
        }
        finally
        {
            if (Directory.Exists(dataDir)) Directory.Delete(dataDir, recursive: true);
        }
    }

    [Theory]
    [InlineData("AccountName=devstoreaccount1;AccountKey=not-base64!!;BlobEndpoint=nonsense")]
    [InlineData("DefaultEndpointsProtocol=https;AccountName=only-a-name")]
    public async Task A_malformed_storage_connection_string_is_one_line_exit_1_and_never_echoes_the_key(string storage)
    {
        var result = await RunWithDataDirAsync(dataDir => ["silo", "--storage", storage, "--data-dir", dataDir, "--http-port", "0"]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.StartsWith("error: --storage is not a valid Azure Storage connection string", result.Stderr.Trim());
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", result.Stdout + result.Stderr);
        Assert.DoesNotContain("not-base64", result.Stdout + result.Stderr);
    }

    [Theory]
    [InlineData("silo")]
    [InlineData("run")]
    public async Task A_progress_interval_out_of_range_is_one_line_exit_1_naming_the_value_and_the_range(string verb)
    {
        var result = await RunWithDataDirAsync(
            dataDir => verb == "silo" ? ["silo", "--data-dir", dataDir, "--http-port", "0"] : ["run", "sweeps/mnist-smoke.yaml", "--data-dir", dataDir],
            new Dictionary<string, string> { ["ORCHESTRATOR_PROGRESS_INTERVAL_SECONDS"] = "0.01" });

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("error: ORCHESTRATOR_PROGRESS_INTERVAL_SECONDS='0.01' is not valid: use seconds from 0.05 to 60", result.Stderr.Trim());
        Assert.DoesNotContain("   at ", result.Stdout + result.Stderr);
    }
}
