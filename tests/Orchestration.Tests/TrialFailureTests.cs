using Orchestrator.Contracts.Sweeps;
using Orchestrator.Silo.Training;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;

namespace Orchestrator.Orchestration.Tests;

/// <summary>Failures a retry cannot fix fail the trial at once, with the reason; others are retried up to max_failures.</summary>
public sealed class TrialFailureTests : IAsyncLifetime
{
    private const string Name = "no-target";
    // The regex passes validation (it is a valid regex) but selects none of the MLP's linear modules.
    private const string Spec = """
        name: no-target
        seed: 1
        task: { model: mlp, dataset: mnist }
        metric: { name: test_accuracy, goal: maximize }
        method: grid
        parallel: 1
        max_failures: 2
        parameters:
          rank: { value: 2 }
          target_modules_regex: { value: "no_such_module" }
          max_steps: { value: 10 }
        """;
    private readonly string _dataDir = SweepCluster.NewDataDir();
    private SweepCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await SweepCluster.StartAsync(1, _dataDir);

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        SweepCluster.TryDelete(_dataDir);
    }

    [Fact]
    public async Task A_trial_whose_LoRA_targets_match_no_module_fails_on_its_first_attempt_with_the_reason_despite_max_failures_2()
    {
        await _cluster.SubmitAsync(Name, Spec);

        var status = await _cluster.WaitUntilFinishedAsync(Name, TimeSpan.FromSeconds(60));

        Assert.Equal(1, status.Failed);
        var trial = Assert.Single(await _cluster.Sweep(Name).GetTrialsAsync());
        Assert.Equal(TrialState.Failed, trial.State);
        Assert.Equal(1, trial.Attempts);
        Assert.Contains(nameof(LoraTargetException), trial.Error);
        Assert.Contains("select no linear module", trial.Error);
    }

    public static TheoryData<Exception, bool> Failures => new()
    {
        { new ArgumentException("lr must be > 0"), false },
        { new ArgumentOutOfRangeException("rank"), false },
        { new LoraTargetException("Unknown LoRA target module: 'q'.", ["l1", "l2"]), false },
        { new UnknownModelException("gpt9", "unknown model 'gpt9'"), false },
        { new TrialDivergedException("training loss became NaN at step 3"), false },
        { new IOException("disk full"), true },
        { new TimeoutException("evaluation timed out"), true },
        { new InvalidOperationException("no usable starting point"), true },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Only_errors_a_retry_could_fix_are_reported_retryable(Exception error, bool retryable) =>
        Assert.Equal(retryable, TrialFailures.IsRetryable(error));
}
