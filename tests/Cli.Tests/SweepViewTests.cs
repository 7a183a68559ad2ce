using Orchestrator.Client.Watching;
using Orchestrator.Contracts.Sweeps;
using Orchestrator.Contracts.Trials;
using Spectre.Console;

namespace Orchestrator.Cli.Tests;

/// <summary>The live view of `run`/`watch`: one screen however many trials have finished.</summary>
public sealed class SweepViewTests
{
    private static TrialRecord Trial(int i, TrialState state, double? accuracy = null, long step = 100) =>
        new("big", $"t{i:D4}", TrialKind.Lora, new Dictionary<string, ParameterValue> { ["rank"] = ParameterValue.Of((long)(i % 8 + 1)) },
            new Dictionary<string, ParameterValue>(), state, 1, state == TrialState.Running ? "silo-a/0" : null, step, 200,
            accuracy is { } a ? new Dictionary<string, double> { ["test_accuracy"] = a } : new Dictionary<string, double>(),
            null, 1000, 50_000, 3.0, null);

    private static SweepStatus Status(int done, int running, string? best, double? bestMetric) =>
        new("big", SweepState.Running, done + running, 0, running, done, 0, 0, 0, "test_accuracy", true, best, bestMetric, null, null, 0);

    private static string Draw(SweepSnapshot snapshot)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(writer) });
        console.Profile.Width = 160;
        console.Write(SweepView.Render(snapshot));
        return writer.ToString();
    }

    [Fact]
    public void A_thousand_finished_trials_leave_the_view_but_the_best_three_and_the_running_ones_stay()
    {
        var finished = Enumerable.Range(0, 1000).Select(i => Trial(i, TrialState.Succeeded, 0.5 + i / 10_000.0)).ToList();
        var running = new[] { Trial(1000, TrialState.Running, step: 50), Trial(1001, TrialState.Running, step: 150) };
        var snapshot = new SweepSnapshot(Status(1000, 2, "t0999", 0.5999), [.. finished, .. running]);

        var screen = Draw(snapshot);

        Assert.Equal(["t0999", "t0998", "t0997"], snapshot.Best.Select(t => t.TrialId));
        Assert.Contains("big: 1000/1002 done", screen);
        Assert.Contains("t1000", screen);
        Assert.Contains(" 25% 50/200", screen);
        Assert.Contains("t1001", screen);
        Assert.Contains("t0997", screen);
        Assert.DoesNotContain("t0996", screen);
        Assert.DoesNotContain("t0000", screen);
        Assert.True(screen.Split('\n').Length < 20, screen);
    }

    [Fact]
    public void More_running_trials_than_fit_are_counted_not_drawn()
    {
        var running = Enumerable.Range(0, SweepView.RunningShown + 5).Select(i => Trial(i, TrialState.Running)).ToList();
        var screen = Draw(new SweepSnapshot(Status(0, running.Count, null, null), running));

        Assert.Contains("… and 5 more running", screen);
    }

    [Fact]
    public void Redirected_output_gets_a_line_per_start_and_end_and_a_summary_when_the_count_moves()
    {
        var first = new SweepSnapshot(Status(0, 1, null, null), [Trial(1, TrialState.Running), Trial(2, TrialState.Queued)]);
        var second = new SweepSnapshot(Status(1, 1, "t0001", 0.9), [Trial(1, TrialState.Succeeded, 0.9), Trial(2, TrialState.Running)]);

        Assert.Equal(["  t0001 started on silo-a/0 [lora] rank=2", "big: 0/1 done (0 succeeded, 0 pruned, 0 failed), 1 running"], SweepView.Changes(null, first));
        Assert.Equal(
            ["  t0001 succeeded [lora] rank=2 test_accuracy=0.9", "  t0002 started on silo-a/0 [lora] rank=3",
             "big: 1/2 done (1 succeeded, 0 pruned, 0 failed), 1 running · best test_accuracy 0.9 (t0001)"],
            SweepView.Changes(first, second));
        Assert.Empty(SweepView.Changes(second, second));
    }
}
