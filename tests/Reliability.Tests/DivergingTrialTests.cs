using Xunit.Abstractions;

namespace Orchestrator.Reliability.Tests;

public sealed class DivergingTrialTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_trial_whose_loss_turns_NaN_fails_alone_on_its_first_attempt_with_its_error_shown_by_trials()
    {
        await using var cluster = await FaultCluster.StartAsync(output);
        // lr 1e6 without gradient clipping: the loss is NaN within a few steps, on every attempt.
        var sweep = new TestSweep("diverging", Ranks: 1, Steps: 100, MaxFailures: 1)
        {
            Lr = "{ values: [1.0e-3, 3.0e-3, 1.0e6] }",
            ExtraParameters = ["grad_clip: { value: 0 }"],
        };
        await cluster.SubmitAsync(sweep);

        await cluster.WaitFinishedAsync(sweep.Name, TimeSpan.FromSeconds(180));
        var outcome = await cluster.AssertExactlyOnceAsync(sweep.Name, expectedTrials: 3, expectedFailed: 1);
        var failed = outcome.Trials.Single(t => t.Is("failed"));
        // A seeded rerun diverges the same way: the failure is not retryable, max_failures notwithstanding.
        Assert.Equal(1, failed.Attempts);
        Assert.Contains("NaN", failed.Error);
        var table = await cluster.CliAsync("trials", sweep.Name);
        Assert.Equal(0, table.ExitCode);
        Assert.Contains(failed.Error![..Math.Min(40, failed.Error!.Length)], table.Stdout);
        output.WriteLine($"diverging trial: {failed.TrialId} failed after {failed.Attempts} attempt (max_failures {sweep.MaxFailures}), " +
            $"`trials` shows: {failed.Error}; the other 2 succeeded once each; {outcome}");
    }
}
