using System.Text.Json;

namespace Orchestrator.Cli.Tests.EndToEnd;

/// <summary>
/// The study path through the real binary: `run` trains a small sweep on the embedded silo, writes a report with a
/// PNG and a leaderboard ordered by the metric's goal; `reproduce` re-trains it and finds every trial identical.
/// </summary>
public sealed class RunAndReproduceTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("orchestrator-e2e-").FullName;

    [Fact]
    public async Task Run_writes_a_report_and_a_goal_ordered_leaderboard_and_reproduce_finds_every_trial_identical()
    {
        var sweep = Path.Combine(CliProcess.RepositoryRoot, "sweeps", "mnist-smoke.yaml");
        var dataDir = Path.Combine(_work, "data");
        var reportDir = Path.Combine(_work, "report");

        var run = await CliProcess.RunAsync(["run", sweep, "--data-dir", dataDir, "--report", reportDir], _work, TimeSpan.FromMinutes(4));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain("   at ", run.Stderr);

        var markdown = Path.Combine(reportDir, "report.md");
        Assert.True(File.Exists(markdown), run.ToString());
        var pngs = Directory.GetFiles(reportDir, "*.png");
        Assert.NotEmpty(pngs);
        var signature = new byte[8];
        await using (var png = File.OpenRead(pngs[0])) await png.ReadExactlyAsync(signature);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, signature);

        // The sweep grain rewrote manifest.json when the sweep finished: every trial with its state and metrics.
        using (var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dataDir, "artifacts", "sweeps", "mnist-smoke", "manifest.json"))))
        {
            var manifestTrials = manifest.RootElement.GetProperty("trials").EnumerateArray().ToList();
            Assert.Equal(3, manifestTrials.Count);
            Assert.All(manifestTrials, t => Assert.Equal("succeeded", t.GetProperty("state").GetString()));
            Assert.All(manifestTrials, t => Assert.True(t.GetProperty("metrics").TryGetProperty("test_accuracy", out _), t.ToString()));
        }

        var board = await CliProcess.RunAsync(["leaderboard", "mnist-smoke", "--data-dir", dataDir, "--format", "json"], _work, TimeSpan.FromMinutes(2));
        Assert.True(board.ExitCode == 0, board.ToString());
        var scores = JsonDocument.Parse(board.Stdout).RootElement.EnumerateArray()
            .Select(e => e.GetProperty("score").GetDouble()).ToList();
        Assert.Equal(3, scores.Count);
        Assert.Equal(scores.OrderByDescending(s => s).ToList(), scores); // test_accuracy: maximize

        var trials = await CliProcess.RunAsync(["trials", "mnist-smoke", "--data-dir", dataDir, "--json"], _work, TimeSpan.FromMinutes(2));
        Assert.True(trials.ExitCode == 0, trials.ToString());
        var states = JsonDocument.Parse(trials.Stdout).RootElement.EnumerateArray().Select(t => t.GetProperty("state").ToString()).ToList();
        Assert.Equal(3, states.Count);

        var reproduce = await CliProcess.RunAsync(["reproduce", "mnist-smoke", "--data-dir", dataDir, "--json"], _work, TimeSpan.FromMinutes(4));
        Assert.True(reproduce.ExitCode == 0, reproduce.ToString());
        var verdict = JsonDocument.Parse(reproduce.Stdout).RootElement;
        Assert.Equal(3, verdict.GetProperty("trials").GetInt32());
        Assert.Equal(3, verdict.GetProperty("identical").GetInt32());

        // adapter download: a PEFT folder whose weights match the recorded sha256; a corrupted copy in storage is
        // refused with a one-line error and writes nothing.
        var trial = JsonDocument.Parse(trials.Stdout).RootElement.EnumerateArray()
            .First(t => t.GetProperty("kind").GetString() == "lora").GetProperty("trialId").GetString()!;
        var adapterDir = Path.Combine(_work, "adapter");
        var download = await CliProcess.RunAsync(["adapter", "download", trial, "-o", adapterDir, "--data-dir", dataDir, "--json"], _work, TimeSpan.FromMinutes(2));
        Assert.True(download.ExitCode == 0, download.ToString());
        Assert.True(File.Exists(Path.Combine(adapterDir, "adapter_config.json")), download.ToString());
        var weights = Path.Combine(adapterDir, "adapter_model.safetensors");
        var recorded = JsonDocument.Parse(download.Stdout).RootElement.GetProperty("sha256").GetString();
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(weights))), recorded);

        var stored = Directory.GetFiles(Path.Combine(dataDir, "artifacts", "sweeps", "mnist-smoke", "trials", trial), "adapter_model.safetensors", SearchOption.AllDirectories).Single();
        var bytes = await File.ReadAllBytesAsync(stored);
        bytes[^1] ^= 0xFF;
        await File.WriteAllBytesAsync(stored, bytes);
        var corruptDir = Path.Combine(_work, "adapter-corrupt");
        var refused = await CliProcess.RunAsync(["adapter", "download", trial, "-o", corruptDir, "--data-dir", dataDir], _work, TimeSpan.FromMinutes(2));
        Assert.True(refused.ExitCode != 0, refused.ToString());
        Assert.Contains("corrupt", refused.Stderr);
        Assert.DoesNotContain("   at ", refused.Stderr);
        Assert.False(File.Exists(Path.Combine(corruptDir, "adapter_model.safetensors")), "a corrupt adapter was written");
    }

    [Theory]
    [InlineData("status")]
    [InlineData("watch")] // its first poll is the check, inside its reconnecting loop
    public async Task A_verb_on_a_sweep_that_does_not_exist_exits_not_found_with_a_clear_message(string verb)
    {
        var result = await CliProcess.RunAsync([verb, "no-such-sweep", "--data-dir", Path.Combine(_work, "empty")], _work, TimeSpan.FromMinutes(2));
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("no sweep named 'no-such-sweep'", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task A_bad_leaderboard_filter_exits_invalid_input_naming_the_problem()
    {
        var result = await CliProcess.RunAsync(["leaderboard", "x", "--where", "rank >>= 3", "--data-dir", Path.Combine(_work, "empty")], _work, TimeSpan.FromMinutes(2));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("error:", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task An_unreachable_cluster_exits_with_the_cluster_unreachable_code()
    {
        var result = await CliProcess.RunAsync(["status", "--cluster", "127.0.0.1:1"], _work, TimeSpan.FromMinutes(2));
        Assert.Equal(4, result.ExitCode);
        Assert.Contains("cannot reach the cluster at 127.0.0.1:1: nothing listens at 127.0.0.1:1 (connection refused)", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}
