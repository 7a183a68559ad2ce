using Orchestrator.Sweeps.Pareto;
using Orchestrator.Client.Reports;
using Orchestrator.Contracts.Sweeps;
using Orchestrator.Contracts.Trials;

namespace Orchestrator.Cli.Tests;

public sealed class ParetoFrontTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pareto-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private const string TwoObjectives = """
        name: pareto
        task: { model: mlp, dataset: mnist }
        metrics:
          - { name: test_accuracy, goal: maximize }
          - { name: trainable_params, goal: minimize }
        baselines: [full]
        parameters:
          rank: { values: [1, 2, 4, 8] }
        """;

    /// <summary>The spec view of the sweep above as the grain serves it: its objectives from the journal.</summary>
    private static readonly SweepSpecView TwoObjectiveSpec = new(TwoObjectives, "pareto.yaml", "mlp", "mnist", "test_accuracy", Maximize: true,
        [new MetricObjective("test_accuracy", true), new MetricObjective("trainable_params", false)], "pareto");

    private static TrialRecord Trial(string id, int rank, double accuracy, long trainable, string kind = "lora") =>
        new("pareto", id, TrialKinds.Parse(kind), new Dictionary<string, ParameterValue> { ["rank"] = ParameterValue.Of(rank) },
            new Dictionary<string, ParameterValue>(), TrialState.Succeeded, 1, null, 10, 10,
            new Dictionary<string, double> { ["test_accuracy"] = accuracy }, null, trainable, 55_050, 1.5, null);

    private static readonly IReadOnlyList<TrialRecord> Trials =
    [
        Trial("r1", 1, 0.80, 1_000),
        Trial("r2", 2, 0.85, 2_000),
        Trial("r2-worse", 2, 0.79, 2_000), // dominated by r1: fewer parameters and better
        Trial("r4", 4, 0.85, 4_000),       // dominated by r2: same accuracy, more parameters
        Trial("r8", 8, 0.90, 8_000),
        Trial("full", 0, 0.91, 55_050, "full"),
    ];

    [Fact]
    public void The_front_keeps_exactly_the_trials_no_other_beats_on_both_objectives()
    {
        var objectives = ParetoFront.Objectives(TwoObjectiveSpec);
        Assert.Equal([new MetricObjective("test_accuracy", true), new MetricObjective("trainable_params", false)], objectives);
        Assert.Equal(["r1", "r2", "r8", "full"], ParetoFront.Of(Trials, t => t, objectives).Select(t => t.TrialId));
    }

    [Fact]
    public void Peak_memory_bytes_is_an_objective_of_the_front_and_a_trial_without_a_measurement_stays_off_it()
    {
        const string yaml = """
            name: pareto
            task: { model: mlp, dataset: mnist }
            metrics:
              - { name: test_accuracy, goal: maximize }
              - { name: peak_memory_bytes, goal: minimize }
            parameters:
              rank: { values: [1, 2, 4, 8] }
            """;
        var parsed = Orchestrator.Sweeps.SweepFile.Parse(yaml, "pareto.yaml"); // the file may name it
        var journaled = parsed.Objectives.Select(o => new MetricObjective(o.Name, o.Goal == Orchestrator.Sweeps.MetricGoal.Maximize)).ToList();
        var objectives = ParetoFront.Objectives(new SweepSpecView(yaml, "pareto.yaml", "mlp", "mnist", "test_accuracy", Maximize: true, journaled));
        Assert.Equal([new MetricObjective("test_accuracy", true), new MetricObjective("peak_memory_bytes", false)], objectives);
        TrialRecord[] trials =
        [
            Trial("small", 1, 0.80, 1_000) with { PeakMemoryBytes = 100_000_000 },
            Trial("big-better", 8, 0.90, 8_000) with { PeakMemoryBytes = 400_000_000 },
            Trial("big-worse", 8, 0.85, 8_000) with { PeakMemoryBytes = 500_000_000 }, // dominated by big-better
            Trial("unmeasured", 2, 0.95, 2_000),                                      // no peak: not comparable
        ];
        Assert.Equal(["small", "big-better"], ParetoFront.Of(trials, t => t, objectives).Select(t => t.TrialId));
    }

    [Fact]
    public void A_sweep_with_one_metric_is_fronted_against_trainable_parameters()
    {
        var objectives = ParetoFront.Objectives(new SweepSpecView("name: x\n", "x.yaml", "mlp", "mnist", "test_loss", Maximize: false));
        Assert.Equal([new MetricObjective("test_loss", false), new MetricObjective("trainable_params", false)], objectives);
    }

    [Fact]
    public void A_multi_objective_report_draws_the_front_and_lists_its_trials()
    {
        var spec = TwoObjectiveSpec;
        var files = StudyReport.Write(_dir, spec, Trials);
        var png = Path.Combine(_dir, ParetoPlot.File);
        Assert.Contains(png, files.Plots);
        Assert.True(new FileInfo(png).Length > 1000);
        var markdown = File.ReadAllText(files.Markdown);
        Assert.Contains("## Pareto front: test_accuracy (max) and trainable_params (min)", markdown);
        Assert.Contains("| r8 | lora | 0.9 | 8000 |", markdown);
        var section = markdown[markdown.IndexOf("## Pareto front", StringComparison.Ordinal)..];
        section = section[..(section.IndexOf("\n#", 3, StringComparison.Ordinal) is var end and > 0 ? end : section.Length)];
        Assert.DoesNotContain("| r4 |", section);
        Assert.Contains("| full | full |", section);
    }

    [Fact]
    public void A_log_scaled_pareto_axis_labels_whole_decades_only()
    {
        var spec = TwoObjectiveSpec;
        var objectives = ParetoFront.Objectives(spec);
        var (plot, _) = ParetoPlot.Of(spec, Trials, objectives)!.Value;

        plot.GetImage(800, 600); // lays the ticks out
        var major = plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor).ToList();

        Assert.NotEmpty(major);
        Assert.All(major, t => Assert.Equal(Math.Round(t.Position), t.Position, 9)); // log10 positions: whole decades
        Assert.All(major, t => Assert.Matches("^10*$", t.Label.Replace(",", "", StringComparison.Ordinal))); // 1,000, 10,000: no 1,585
        Assert.Equal("1,000", ParetoPlot.DecadeLabel(3));
    }

    [Fact]
    public void A_single_objective_report_has_no_pareto_plot()
    {
        var spec = new SweepSpecView("name: one\ntask: { model: mlp, dataset: mnist }\nmetric: { name: test_accuracy, goal: maximize }\nparameters:\n  rank: { values: [1, 2] }\n",
            "one.yaml", "mlp", "mnist", "test_accuracy", Maximize: true);
        var files = StudyReport.Write(_dir, spec, Trials);
        Assert.DoesNotContain(files.Plots, p => p.EndsWith(ParetoPlot.File, StringComparison.Ordinal));
    }
}
