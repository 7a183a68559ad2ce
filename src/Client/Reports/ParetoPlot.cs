using Orchestrator.Sweeps.Pareto;
using System.Globalization;
using Orchestrator.Client.Leaderboards;
using ScottPlot;

namespace Orchestrator.Client.Reports;

/// <summary>
/// The report's Pareto plot for a sweep with several objectives: the second objective across (log10 when it spans
/// more than a decade, as trainable parameters do), the first up; every trial a grey dot, the non-dominated ones
/// joined as a red staircase, baselines (full fine-tuning, frozen base) as their own markers.
/// </summary>
public static class ParetoPlot
{
    public const string File = "pareto-front.png";

    /// <summary>The plot and the front (best first by the first objective); null when fewer than two trials have both objectives.</summary>
    public static (Plot Plot, IReadOnlyList<TrialRecord> Front)? Of(SweepSpecView spec, IReadOnlyList<TrialRecord> trials, IReadOnlyList<MetricObjective> objectives)
    {
        var (y, x) = (objectives[0], objectives[1]);
        var done = trials.Where(t => t.State is TrialState.Succeeded or TrialState.Pruned && x.Of(t) is not null && y.Of(t) is not null).ToList();
        if (done.Count < 2) return null;
        var xs = done.Select(t => x.Of(t)!.Value).ToList();
        bool log = xs.Min() > 0 && xs.Max() / xs.Min() > 10;
        double X(TrialRecord t) => log ? Math.Log10(x.Of(t)!.Value) : x.Of(t)!.Value;

        var plot = new Plot();
        plot.Title($"{spec.Model} on {spec.Dataset}: Pareto front of {y} and {x} ({spec.FileName})");
        plot.XLabel(x.Name + (log ? " (log10 scale)" : ""));
        plot.YLabel(y.Name);

        var lora = done.Where(t => t.Kind == TrialKind.Lora).ToList();
        var all = plot.Add.ScatterPoints(lora.Select(X).ToArray(), lora.Select(t => y.Of(t)!.Value).ToArray(), Colors.Gray.WithAlpha(0.6));
        all.MarkerSize = 6;
        all.LegendText = $"trials ({lora.Count})";

        var front = ParetoFront.Of(done, t => t, objectives).OrderBy(X).ToList();
        var line = plot.Add.Scatter(front.Select(X).ToArray(), front.Select(t => y.Of(t)!.Value).ToArray(), Colors.Red);
        line.ConnectStyle = ConnectStyle.StepHorizontal;
        line.MarkerSize = 9;
        line.LineWidth = 2;
        line.LegendText = $"Pareto front ({front.Count})";

        foreach (var (kind, color, shape) in new[] { (TrialKind.Full, Colors.Blue, MarkerShape.FilledDiamond), (TrialKind.Base, Colors.Black, MarkerShape.FilledTriangleUp) })
        {
            var baselines = done.Where(t => t.Kind == kind).ToList();
            if (baselines.Count == 0) continue;
            var marks = plot.Add.ScatterPoints(baselines.Select(X).ToArray(), baselines.Select(t => y.Of(t)!.Value).ToArray(), color);
            marks.MarkerShape = shape;
            marks.MarkerSize = 12;
            marks.LegendText = kind == TrialKind.Full ? "full fine-tuning" : "frozen base";
        }
        if (log)
            // Major ticks at whole decades only (1,000; 10,000; ...), minor ticks at 2..9 of each decade: round labels
            // instead of 10^1.2 = 1,585 (ScottPlot's log-scale recipe).
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                IntegerTicksOnly = true,
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                LabelFormatter = DecadeLabel,
            };
        plot.ShowLegend(y.Maximize ? Alignment.LowerRight : Alignment.UpperRight);
        return (plot, front.OrderByDescending(t => y.Maximize ? y.Of(t) : -y.Of(t)).ToList());
    }

    /// <summary>A log10 tick position as the value it stands for: 3 → "1,000".</summary>
    public static string DecadeLabel(double log10) => Math.Pow(10, log10).ToString("N0", CultureInfo.InvariantCulture);
}
