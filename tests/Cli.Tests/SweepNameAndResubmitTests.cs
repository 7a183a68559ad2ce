namespace Orchestrator.Cli.Tests;

/// <summary>
/// Every verb that names a sweep applies the one sweep-name rule before it connects (exit 2 naming the rule, not
/// exit 5 from inside a grain), and `submit` refuses a changed spec under an existing name with exit 2.
/// </summary>
public sealed class SweepNameAndResubmitTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("orchestrator-names-").FullName;

    public void Dispose() => Orchestrator.TestServers.TempFolder.TryDelete(_work);

    private string DataDir => Path.Combine(_work, "data");

    [Theory]
    [InlineData("status")]
    [InlineData("watch")]
    [InlineData("trials")]
    [InlineData("leaderboard")]
    [InlineData("report")]
    [InlineData("pause")]
    [InlineData("resume")]
    [InlineData("cancel")]
    [InlineData("reproduce")]
    public async Task A_sweep_name_with_an_underscore_exits_2_naming_the_rule(string verb)
    {
        var result = await CliProcess.RunAsync([verb, "my_sweep", "--data-dir", DataDir], _work, TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("'my_sweep' is not a valid sweep name", result.Stderr);
        Assert.Contains("lowercase letters, digits and dashes, at most 63 characters", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.False(Directory.Exists(Path.Combine(DataDir, "state")), "the name was checked only after a silo started");
    }

    [Fact]
    public async Task Adapter_download_checks_its_sweep_option_by_the_same_rule()
    {
        var result = await CliProcess.RunAsync(["adapter", "download", "t0123456789ab", "-o", Path.Combine(_work, "out"), "--sweep", "My-Sweep",
            "--data-dir", DataDir], _work, TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("'My-Sweep' is not a valid sweep name", result.Stderr);
    }

    [Fact]
    public async Task Submit_writes_spec_and_manifest_and_refuses_a_changed_spec_under_the_same_name_with_exit_2()
    {
        var smoke = await File.ReadAllTextAsync(Path.Combine(CliProcess.RepositoryRoot, "sweeps", "mnist-smoke.yaml"));
        var original = Path.Combine(_work, "mnist-smoke.yaml");
        await File.WriteAllTextAsync(original, smoke);
        var submitted = await CliProcess.RunAsync(["submit", original, "--data-dir", DataDir], _work, TimeSpan.FromMinutes(2));
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        var folder = Path.Combine(DataDir, "artifacts", "sweeps", "mnist-smoke");
        Assert.Equal(smoke, await File.ReadAllTextAsync(Path.Combine(folder, "spec.yaml")));
        Assert.Contains("\"spec_sha256\"", await File.ReadAllTextAsync(Path.Combine(folder, "manifest.json")));

        var changed = Path.Combine(_work, "changed.yaml");
        await File.WriteAllTextAsync(changed, smoke.Replace("pretrain: { epochs: 1,", "pretrain: { epochs: 3,", StringComparison.Ordinal));
        var refused = await CliProcess.RunAsync(["submit", changed, "--data-dir", DataDir], _work, TimeSpan.FromMinutes(2));

        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Contains("task.base.pretrain.epochs changed from 1 to 3", refused.Stderr);
        Assert.DoesNotContain("   at ", refused.Stderr);
        Assert.Equal(smoke, await File.ReadAllTextAsync(Path.Combine(folder, "spec.yaml"))); // the refused spec wrote nothing
    }
}
