using System.Diagnostics;
using Orchestrator.Contracts.Hosting;
using Orchestrator.TestServers;
using Xunit.Abstractions;

namespace Orchestrator.Reliability.Tests;

public sealed class EmbeddedRunTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Embedded_run_killed_mid_sweep_and_run_again_on_the_same_data_dir_finishes_without_rerunning_finished_trials()
    {
        FaultCluster.ApplyTestEnvironment();
        var dir = Path.Combine(Path.GetTempPath(), $"orchestrator-embedded-{Guid.NewGuid():N}"[..32]);
        Directory.CreateDirectory(dir);
        try
        {
            var sweep = new TestSweep("embedded-crash", Ranks: 5, Steps: 1000, CheckpointEvery: 100, Parallel: 1);
            var file = sweep.WriteTo(dir);
            var clock = Stopwatch.StartNew();
            // `run` serves its dashboard on a port of ours: the poll reads the trials there (a CLI process per poll would
            // take the cores the run trains on); the assertions after the kill read the CLI.
            var dashboardPort = FreePort.Next();
            var first = Cli.Start(["run", file, "--data-dir", dir, "--dashboard-port", dashboardPort.ToString(System.Globalization.CultureInfo.InvariantCulture)],
                Path.Combine(dir, "run-1.log"), dir);
            using var api = new SiloTrialsApi(() => [new Uri($"http://127.0.0.1:{dashboardPort}/")]);
            IReadOnlyList<TrialRow> before = [];
            try
            {
                before = await ProgressWait.UntilAsync(() => api.PollAsync(sweep.Name),
                    trials => first.HasExited || (trials.Any(t => t.Is("succeeded")) && trials.Any(t => t.Is("running") && t.Step > 0)),
                    "a trial finished and another training", TimeSpan.FromSeconds(60), () => Task.FromResult(first.LogTail()));
            }
            catch (TimeoutException) when (first.HasExited) { /* asserted below, with the run's log */ }
            Assert.False(first.HasExited, $"run ended before it could be killed\n{first.LogTail()}");
            await first.KillAsync();
            await first.DisposeAsync();
            var finishedBefore = before.Where(t => t.Is("succeeded")).Select(t => t.TrialId).ToHashSet();
            Assert.NotEmpty(finishedBefore);
            output.WriteLine($"kill -9 `run` at {clock.Elapsed.TotalSeconds:0.0} s: {string.Join("; ", before)}");

            var again = Stopwatch.StartNew();
            var second = await Cli.RunAsync(["run", file, "--data-dir", dir], dir, TimeSpan.FromSeconds(240));
            Assert.True(second.ExitCode == 0, $"second run: {second}");
            var trials = CliJson.Parse<List<TrialRow>>((await Cli.RunAsync(["trials", sweep.Name, "--json", "--data-dir", dir], dir)).Stdout);
            var leaderboard = CliJson.Parse<List<LeaderboardRow>>((await Cli.RunAsync(["leaderboard", sweep.Name, "--format", "json", "--data-dir", dir], dir)).Stdout);

            Assert.Equal(sweep.Ranks, trials.Count);
            Assert.All(trials, t => Assert.True(t.Is("succeeded"), t.ToString()));
            foreach (var id in finishedBefore) Assert.Equal(1, trials.Single(t => t.TrialId == id).Attempts);
            var duplicates = leaderboard.GroupBy(e => e.TrialId).Sum(g => g.Count() - 1);
            var lost = trials.Count(t => leaderboard.All(e => e.TrialId != t.TrialId));
            Assert.Equal(0, duplicates);
            Assert.Equal(0, lost);
            foreach (var t in trials)
                Assert.True(File.Exists(Path.Combine(dir, "artifacts", "sweeps", sweep.Name, "trials", t.TrialId, "result.json")), $"no result.json for {t.TrialId}");
            output.WriteLine($"embedded crash: second `run` finished in {again.Elapsed.TotalSeconds:0.0} s; {finishedBefore.Count} trials finished before the kill kept attempts 1; " +
                $"trials re-run {trials.Count(t => t.Attempts > 1)}; lost {lost}; duplicates {duplicates}; attempts: {string.Join(", ", trials.Select(t => $"{t.TrialId}={t.Attempts}"))}");
        }
        finally
        {
            TempFolder.TryDelete(dir);
        }
    }
}
