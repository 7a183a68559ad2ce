using Orchestrator.Sweeps.Pareto;
using Orchestrator.Client.Leaderboards;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Orchestrator.Contracts.Sweeps;
using ScottPlot;

namespace Orchestrator.Client.Reports;

/// <summary>What <see cref="StudyReport.Write"/> produced.</summary>
public sealed record StudyReportFiles(string Markdown, IReadOnlyList<string> Plots);

/// <summary>
/// The study report of one sweep: <c>report.md</c> with a table of every trial, plus PNG plots. The rank plot follows
/// the "accuracy vs rank" figure of the LoRA rank study: metric against rank on a log2 axis, one line per
/// target-module set (or LoRA variant, or other configuration: <see cref="ConfigurationLabels"/>) with mean ± min–max
/// over seeds, full fine-tuning and the frozen base as horizontal lines, and trainable parameters on the right axis.
/// When several of them share a rank, a bar chart per rank compares them with mean ± std over seeds.
/// </summary>
public static class StudyReport
{
    public const string MarkdownFile = "report.md";
    public const string RankPlotFile = "metric-vs-rank.png";
    public const int Width = 1000;
    public const int Height = 600;

    public static StudyReportFiles Write(string outputDir, SweepSpecView spec, IReadOnlyList<TrialRecord> trials)
    {
        Directory.CreateDirectory(outputDir);
        var study = Study.From(spec, trials);
        var plots = new List<string>();
        var sections = new StringBuilder();

        var targetRanks = study.RanksWithSeveralConfigurations().ToList();
        var loraRanks = study.Groups.SelectMany(g => g.Points).Select(p => p.Rank).Distinct().Count();
        // With one rank there is no curve to draw: the bar chart carries the comparison. With many ranks the curves
        // already compare the target sets; a bar chart per rank would only repeat them.
        if (loraRanks > 2) targetRanks.Clear();
        if (loraRanks != 1 || targetRanks.Count == 0)
        {
            var path = Path.Combine(outputDir, RankPlotFile);
            RankPlot(study).SavePng(path, Width, Height);
            plots.Add(path);
            sections.Append(RankSection(study));
        }
        foreach (var rank in targetRanks)
        {
            var file = study.Labels.ByTargetModules ? $"target-modules-r{rank}.png" : $"{study.Labels.Noun.Replace(' ', '-').ToLowerInvariant()}s-r{rank}.png";
            var path = Path.Combine(outputDir, file);
            TargetPlot(study, rank).SavePng(path, Width, Height);
            plots.Add(path);
            sections.Append(TargetSection(study, rank, file));
        }

        // A sweep with several objectives (metrics:) also gets its Pareto front.
        var objectives = ParetoFront.Objectives(spec);
        if (spec.AllObjectives.Count > 1 && ParetoPlot.Of(spec, trials, objectives) is var (paretoPlot, front))
        {
            var path = Path.Combine(outputDir, ParetoPlot.File);
            paretoPlot.SavePng(path, Width, Height);
            plots.Add(path);
            sections.Append(CultureInfo.InvariantCulture, $"\n## Pareto front: {objectives.Describe()}\n\n![Pareto front]({ParetoPlot.File})\n\n");
            sections.Append("| trial | kind | " + string.Join(" | ", objectives.Select(o => o.Name)) + " | parameters |\n");
            sections.Append("|---|---|" + string.Concat(objectives.Select(_ => "---|")) + "---|\n");
            foreach (var t in front)
                sections.Append(CultureInfo.InvariantCulture, $"| {t.TrialId} | {t.Kind.Name()} | {string.Join(" | ", objectives.Select(o => Fmt(o.Of(t) ?? double.NaN)))} | {string.Join(", ", t.Parameters.Select(p => $"{p.Key}={p.Value}"))} |\n");
        }

        if (ConfigurationSection(spec, trials) is { } configurations) sections.Append(configurations);

        var markdown = new StringBuilder();
        markdown.Append(Header(study));
        markdown.Append(sections);
        markdown.Append(TrialTable(study));
        var markdownPath = Path.Combine(outputDir, MarkdownFile);
        File.WriteAllText(markdownPath, markdown.ToString());
        return new StudyReportFiles(markdownPath, plots);
    }

    // ---- plots ---------------------------------------------------------------------------------------------------

    private static Plot RankPlot(Study study)
    {
        var plot = new Plot();
        plot.Title($"{study.Spec.Model} on {study.Spec.Dataset}: {study.Metric} vs LoRA rank ({study.Spec.FileName})");
        plot.XLabel("LoRA rank (log2 scale)");
        plot.YLabel($"{study.Metric} (mean, bars: min–max over seeds)");
        plot.Axes.Right.Label.Text = "trainable parameters (dotted)";

        var palette = new ScottPlot.Palettes.Category10();
        var ranks = study.Groups.SelectMany(g => g.Points).Select(p => p.Rank).Distinct().Order().ToList();
        var index = 0;
        foreach (var group in study.Groups)
        {
            var color = palette.GetColor(index++);
            var points = group.Points.Where(p => p.Scores.Count > 0).ToList();
            if (points.Count > 0)
            {
                var xs = points.Select(p => Math.Log2(p.Rank)).ToArray();
                var means = points.Select(p => p.Mean).ToArray();
                var line = plot.Add.Scatter(xs, means, color);
                line.LegendText = study.Labels.ByTargetModules ? $"LoRA on {group.Label}" : group.Label;
                line.LineWidth = 2;
                line.MarkerSize = 8;
                var bars = plot.Add.ErrorBar(xs, means, points.Select(p => p.Max - p.Mean).ToArray());
                bars.YErrorNegative = points.Select(p => p.Mean - p.Min).ToArray();
                bars.Color = color;
                bars.CapSize = 6;
            }
            var pruned = group.Points.SelectMany(p => p.Pruned.Select(s => (p.Rank, Score: s))).ToList();
            if (pruned.Count > 0)
            {
                var marks = plot.Add.ScatterPoints(pruned.Select(p => Math.Log2(p.Rank)).ToArray(), pruned.Select(p => p.Score).ToArray(), color);
                marks.MarkerShape = MarkerShape.Eks;
                marks.MarkerSize = 9;
                marks.LegendText = $"pruned ({group.Label})";
            }
            var withParams = group.Points.Where(p => p.TrainableParameters > 0).ToList();
            if (withParams.Count > 0)
            {
                var parameters = plot.Add.Scatter(withParams.Select(p => Math.Log2(p.Rank)).ToArray(), withParams.Select(p => (double)p.TrainableParameters).ToArray(), color);
                parameters.Axes.YAxis = plot.Axes.Right;
                parameters.LinePattern = LinePattern.Dotted;
                parameters.MarkerShape = MarkerShape.OpenSquare;
                parameters.MarkerSize = 6;
            }
        }

        var baselineColors = new Dictionary<TrialKind, Color> { [TrialKind.Full] = Colors.Red, [TrialKind.Base] = Colors.Gray };
        foreach (var baseline in study.Baselines)
        {
            var color = baselineColors.GetValueOrDefault(baseline.Kind, Colors.Black);
            var line = plot.Add.HorizontalLine(baseline.Mean, 2, color, LinePattern.Dashed);
            line.LegendText = $"{BaselineName(baseline.Kind, baseline.TrainableParameters)}: {Fmt(baseline.Mean)}";
            if (baseline.Kind == TrialKind.Full && baseline.TrainableParameters > 0 && study.Groups.Count > 0)
            {
                var parameters = plot.Add.HorizontalLine(baseline.TrainableParameters, 1, color.WithAlpha(0.5), LinePattern.Dotted);
                parameters.Axes.YAxis = plot.Axes.Right;
                parameters.LegendText = $"full fine-tuning parameters: {baseline.TrainableParameters:N0}";
            }
        }

        if (ranks.Count > 0)
        {
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                ranks.Select(r => Math.Log2(r)).ToArray(), ranks.Select(r => r.ToString(CultureInfo.InvariantCulture)).ToArray());
            var low = Math.Log2(ranks[0]);
            var high = Math.Log2(ranks[^1]);
            var pad = Math.Max(0.5, (high - low) * 0.05);
            plot.Axes.SetLimitsX(low - pad, high + pad);
        }
        else
        {
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([0.0], ["(no LoRA trials)"]);
            plot.Axes.SetLimitsX(-1, 1);
        }
        plot.Axes.Right.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => v.ToString("N0", CultureInfo.InvariantCulture) };
        // Many lines (a variant study) would cover the data inside the frame: their legend goes beside it.
        if (study.Groups.Count > 4) plot.ShowLegend(Edge.Right);
        else plot.ShowLegend(study.Maximize ? Alignment.LowerRight : Alignment.UpperRight);
        return plot;
    }

    private static Plot TargetPlot(Study study, int rank)
    {
        var plot = new Plot();
        plot.Title($"{study.Spec.Model} on {study.Spec.Dataset}: {study.Labels.Noun} at rank {rank}");
        plot.YLabel($"{study.Metric} (mean, bars: ± std over seeds)");
        var palette = new ScottPlot.Palettes.Category10();
        var entries = study.Groups
            .Select((g, i) => (Group: g, Color: palette.GetColor(i), Point: g.Points.FirstOrDefault(p => p.Rank == rank)))
            .Where(e => e.Point is { Scores.Count: > 0 })
            .ToList();
        var bars = entries.Select((e, i) => new Bar
        {
            Position = i,
            Value = e.Point!.Mean,
            Error = e.Point.Std,
            FillColor = e.Color,
            Label = Fmt(e.Point.Mean),
            LabelOffset = 14,
        }).ToArray();
        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 14;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            entries.Select((_, i) => (double)i).ToArray(),
            entries.Select(e => study.Labels.ByTargetModules
                ? $"{ShortLabel(e.Group.Label)}\n{e.Point!.TrainableParameters:N0} trainable params"
                : $"{TickLabel(e.Group.Label)}\n{e.Point!.TrainableParameters:N0} params").ToArray());
        plot.Axes.Bottom.Label.Text = !study.Labels.ByTargetModules ? study.Labels.Noun
            : entries.All(e => e.Group.Label.Split(',').All(m => m.EndsWith("_proj", StringComparison.Ordinal)))
            ? "target modules (*_proj)"
            : "target modules";
        foreach (var baseline in study.Baselines)
        {
            var line = plot.Add.HorizontalLine(baseline.Mean, 2, baseline.Kind == TrialKind.Full ? Colors.Red : Colors.Gray, LinePattern.Dashed);
            line.LegendText = $"{BaselineName(baseline.Kind, baseline.TrainableParameters)}: {Fmt(baseline.Mean)}";
        }
        var values = bars.Select(b => b.Value + b.Error).Concat(bars.Select(b => b.Value - b.Error)).Concat(study.Baselines.Select(b => b.Mean)).ToList();
        if (values.Count > 0)
        {
            var top = values.Max();
            var bottom = Math.Min(0, values.Min());
            plot.Axes.SetLimitsY(bottom, top + (top - bottom) * 0.15 + 1e-9);
        }
        plot.Axes.SetLimitsX(-0.6, Math.Max(0.6, entries.Count - 0.4));
        if (study.Baselines.Count > 0) plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    // ---- markdown ------------------------------------------------------------------------------------------------

    private static string Header(Study study)
    {
        var s = study.Spec;
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Study report: {Escape(s.Title)}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- sweep file: `{s.FileName}`");
        md.AppendLine(CultureInfo.InvariantCulture, $"- model: `{s.Model}`, dataset: `{s.Dataset}`");
        md.AppendLine(CultureInfo.InvariantCulture, $"- metric: `{study.Metric}` ({(study.Maximize ? "maximize" : "minimize")})");
        var counts = study.Trials.GroupBy(t => t.State).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- trials: {study.Trials.Count} ({string.Join(", ", counts)})");
        var best = study.Spec.Objective.BestTrial(study.Trials.Where(t => t.State is TrialState.Succeeded or TrialState.Pruned), t => t.Metric(study.Metric), t => t.Pruned, t => t.TrialId);
        if (best is not null)
            md.AppendLine(CultureInfo.InvariantCulture, $"- best: `{best.TrialId}` ({best.Kind.Name()}, {Escape(ParameterText(best))}): {study.Metric} = {Fmt(best.Metrics[study.Metric])}");
        md.AppendLine();
        return md.ToString();
    }

    private static string RankSection(Study study)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"## {study.Metric} vs rank");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"![{study.Metric} vs rank]({RankPlotFile})");
        md.AppendLine();
        md.AppendLine("Lines: mean over seeds of succeeded trials; error bars: min–max; dotted lines (right axis): trainable parameters. Pruned trials are drawn as crosses and are not in the means; failed trials are not plotted.");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"| {study.Labels.Noun} | rank | n | mean {Escape(study.Metric)} | std | min | max | trainable parameters |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var group in study.Groups)
            foreach (var p in group.Points)
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {Escape(group.Label)} | {p.Rank} | {p.Scores.Count}{(p.Pruned.Count > 0 ? $" (+{p.Pruned.Count} pruned)" : "")} | {FmtOrDash(p, x => x.Mean)} | {FmtOrDash(p, x => x.Std)} | {FmtOrDash(p, x => x.Min)} | {FmtOrDash(p, x => x.Max)} | {p.TrainableParameters:N0} |");
        foreach (var b in study.Baselines)
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {BaselineName(b.Kind, b.TrainableParameters)} | – | {b.Count} | {Fmt(b.Mean)} | {Fmt(b.Std)} | {Fmt(b.Min)} | {Fmt(b.Max)} | {b.TrainableParameters:N0} |");
        md.AppendLine();
        return md.ToString();
    }

    private static string TargetSection(Study study, int rank, string file)
    {
        var md = new StringBuilder();
        var noun = study.Labels.Noun;
        md.AppendLine(CultureInfo.InvariantCulture, $"## {char.ToUpperInvariant(noun[0])}{noun[1..]} at rank {rank}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"![{noun} at rank {rank}]({file})");
        md.AppendLine();
        md.AppendLine("Bars: mean over seeds; error bars: ± sample standard deviation over seeds.");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"| {noun} | trainable parameters | n | mean {Escape(study.Metric)} | std | per seed |");
        md.AppendLine("|---|---:|---:|---:|---:|---|");
        foreach (var group in study.Groups)
            if (group.Points.FirstOrDefault(p => p.Rank == rank) is { Scores.Count: > 0 } p)
                md.AppendLine(CultureInfo.InvariantCulture, $"| {Escape(group.Label)} | {p.TrainableParameters:N0} | {p.Scores.Count} | {Fmt(p.Mean)} | {Fmt(p.Std)} | {string.Join(", ", p.Scores.Select(Fmt))} |");
        md.AppendLine();
        return md.ToString();
    }

    /// <summary>Swept parameters that the rank plot and the target-module chart already separate, and the seed they average over.</summary>
    private static readonly HashSet<string> PlottedParameters = new(StringComparer.Ordinal) { "rank", "alpha", "target_modules", "seed" };

    /// <summary>
    /// A sweep that varies more than rank and targets (LoRA variants, learning rates, dropout): every configuration, that
    /// is every swept value but the seed, with its mean, standard deviation and min–max over seeds, best first, baselines
    /// among them. Null when nothing but rank, alpha, targets and seed varies (the rank section says it all).
    /// </summary>
    public static string? ConfigurationSection(SweepSpecView spec, IReadOnlyList<TrialRecord> trials)
    {
        var metric = spec.Metric;
        var scored = trials.Where(t => t.State == TrialState.Succeeded && t.Metric(metric) is { } v && double.IsFinite(v)).ToList();
        static string Label(TrialRecord t, Func<string, bool> keep) => string.Join(", ", t.Parameters
            .Where(p => keep(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        if (scored.Where(t => t.Kind == TrialKind.Lora).Select(t => Label(t, k => !PlottedParameters.Contains(k))).Distinct().Count() < 2) return null;

        // Only what varies between the rows names them: a value every trial shares (batch_size, epochs) says nothing.
        var varying = scored.SelectMany(t => t.Parameters.Keys).Distinct(StringComparer.Ordinal)
            .Where(k => k != "seed" && scored.Select(t => t.Parameters.TryGetValue(k, out var v) ? v.ToString() : "–").Distinct(StringComparer.Ordinal).Count() > 1)
            .ToHashSet(StringComparer.Ordinal);
        var objective = spec.Objective;
        var rows = scored.GroupBy(t => (t.Kind, Label: Label(t, varying.Contains)))
            .Select(g =>
            {
                var scores = g.Select(t => t.Metric(metric)!.Value).ToList();
                var mean = scores.Average();
                var std = scores.Count > 1 ? Math.Sqrt(scores.Sum(x => (x - mean) * (x - mean)) / (scores.Count - 1)) : double.NaN;
                return (g.Key.Kind, g.Key.Label, Scores: scores, Mean: mean, Std: std, Trainable: g.First().TrainableParameters);
            })
            .OrderBy(r => r.Mean, Comparer<double>.Create((a, b) => objective.Compare(a, b)))
            .ThenBy(r => r.Label, StringComparer.Ordinal)
            .ToList();
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"\n## Configurations across seeds ({(objective.Maximize ? "highest" : "lowest")} mean {Escape(metric)} first)");
        md.AppendLine();
        md.AppendLine("Each row is one setting of the swept parameters that differ between trials (the seed aside: it is what the row averages over); std is the sample standard deviation over its seeds. "
            + "Two rows whose means differ by less than about their std apart are not told apart by this many seeds.");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"| configuration | kind | n | mean {Escape(metric)} | std | min | max | trainable parameters |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {Escape(r.Label.Length > 0 ? r.Label : "–")} | {r.Kind.Name()} | {r.Scores.Count} | {Fmt(r.Mean)} | {(double.IsNaN(r.Std) ? "–" : Fmt(r.Std))} | {Fmt(r.Scores.Min())} | {Fmt(r.Scores.Max())} | {r.Trainable:N0} |");
        md.AppendLine();
        return md.ToString();
    }

    private static string TrialTable(Study study)
    {
        var md = new StringBuilder();
        md.AppendLine("## Trials");
        md.AppendLine();
        // The pack column only when some trial trained in a pack (the sweep's `pack` on).
        var packed = study.Trials.Any(t => t.Pack is not null);
        md.AppendLine(CultureInfo.InvariantCulture, $"| trial | kind | parameters | state | {Escape(study.Metric)} | trainable parameters | steps | time (s) |{(packed ? " pack |" : "")}");
        md.AppendLine("|---|---|---|---|---:|---:|---:|---:|" + (packed ? "---|" : ""));
        foreach (var t in study.Trials.OrderBy(t => KindOrder(t.Kind)).ThenBy(t => Rank(t) ?? 0).ThenBy(t => ParameterText(t), NaturalOrder).ThenBy(t => t.TrialId, StringComparer.Ordinal))
        {
            var state = t.State == TrialState.Pruned ? "**pruned**" : t.State.ToString().ToLowerInvariant();
            var metric = t.Metrics.TryGetValue(study.Metric, out var v) ? Fmt(v) : "–";
            var steps = t.TotalSteps > 0 ? $"{t.Step}/{t.TotalSteps}" : t.Step.ToString(CultureInfo.InvariantCulture);
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| `{t.TrialId}` | {t.Kind.Name()} | {Escape(ParameterText(t))} | {state} | {metric} | {t.TrainableParameters:N0} | {steps} | {t.ElapsedSeconds:0.0} |{(packed ? $" {(t.Pack is { } p ? $"`{p}`" : "–")} |" : "")}");
        }
        md.AppendLine();
        var failed = study.Trials.Where(t => t.State == TrialState.Failed).ToList();
        if (failed.Count > 0)
        {
            md.AppendLine("## Failed trials (not plotted)");
            md.AppendLine();
            foreach (var t in failed)
                md.AppendLine(CultureInfo.InvariantCulture, $"- `{t.TrialId}` after {t.Attempts} attempt(s): {Escape(OneLine(t.Error ?? "no error recorded"))}");
            md.AppendLine();
        }
        return md.ToString();
    }

    /// <summary>"DoRA + PiSSA + LoRA+ 16" over three lines: tick labels must fit under a bar.</summary>
    private static string TickLabel(string label) => label.Replace(" + ", "\n+ ", StringComparison.Ordinal).Replace(", ", "\n", StringComparison.Ordinal);

    /// <summary>"q_proj,k_proj" → "q, k" when every module is a projection: tick labels must fit under a bar.</summary>
    private static string ShortLabel(string label)
    {
        var modules = label.Split(',');
        return modules.All(m => m.EndsWith("_proj", StringComparison.Ordinal))
            ? string.Join(", ", modules.Select(m => m[..^"_proj".Length]))
            : string.Join(", ", modules);
    }

    private static int KindOrder(TrialKind kind) => (int)kind;

    private static string ParameterText(TrialRecord t) =>
        string.Join(", ", t.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

    /// <summary>A frozen base that still trains parameters trains a classifier's head on it: a linear probe.</summary>
    private static string BaselineName(TrialKind kind, long trainableParameters) => kind switch
    {
        TrialKind.Full => "full fine-tuning",
        TrialKind.Base => trainableParameters > 0 ? "frozen base (linear probe)" : "frozen base",
        _ => kind.Name(),
    };
    private static string Fmt(double v) => double.IsNaN(v) ? "nan" : v.ToString("0.####", CultureInfo.InvariantCulture);
    private static string FmtOrDash(RankPoint p, Func<RankPoint, double> f) => p.Scores.Count == 0 ? "–" : Fmt(f(p));
    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");

    // ---- the data behind the plots --------------------------------------------------------------------------------

    private sealed record Study(SweepSpecView Spec, IReadOnlyList<TrialRecord> Trials, string Metric, bool Maximize,
        ConfigurationLabels Labels, IReadOnlyList<ConfigurationGroup> Groups, IReadOnlyList<Baseline> Baselines)
    {
        public static Study From(SweepSpecView spec, IReadOnlyList<TrialRecord> trials)
        {
            var metric = spec.Metric;
            var lora = trials.Where(t => t.Kind == TrialKind.Lora && Rank(t) is not null).ToList();
            var labels = ConfigurationLabels.Of(lora);
            var groups = lora
                .GroupBy(labels.Label)
                .Select(g => new ConfigurationGroup(g.Key, g.GroupBy(t => Rank(t)!.Value).OrderBy(r => r.Key).Select(r => RankPoint.From(r.Key, r.ToList(), metric)).ToList()))
                .OrderBy(g => g.Points.Count > 0 ? g.Points.Average(p => (double)p.TrainableParameters) : 0)
                .ThenBy(g => g.Label, StringComparer.Ordinal)
                .ToList();
            var baselines = new List<Baseline>();
            foreach (var kind in new[] { TrialKind.Full, TrialKind.Base })
            {
                var done = trials.Where(t => t.Kind == kind && t.State == TrialState.Succeeded && t.Metrics.ContainsKey(metric)).ToList();
                if (done.Count == 0) continue;
                var scores = done.Select(t => t.Metrics[metric]).ToList();
                baselines.Add(new Baseline(kind, scores.Count, scores.Average(), Std(scores), scores.Min(), scores.Max(), (long)done.Average(t => (double)t.TrainableParameters)));
            }
            return new Study(spec, trials, metric, spec.Maximize, labels, groups, baselines);
        }

        public IEnumerable<int> RanksWithSeveralConfigurations() =>
            Groups.SelectMany(g => g.Points.Where(p => p.Scores.Count > 0).Select(p => (g.Label, p.Rank)))
                .GroupBy(x => x.Rank).Where(r => r.Select(x => x.Label).Distinct().Count() >= 2).Select(r => r.Key).Order();
    }

    private sealed record ConfigurationGroup(string Label, IReadOnlyList<RankPoint> Points);

    private sealed record Baseline(TrialKind Kind, int Count, double Mean, double Std, double Min, double Max, long TrainableParameters);

    private sealed record RankPoint(int Rank, IReadOnlyList<double> Scores, IReadOnlyList<double> Pruned, long TrainableParameters)
    {
        public double Mean => Scores.Count == 0 ? double.NaN : Scores.Average();
        public double Min => Scores.Count == 0 ? double.NaN : Scores.Min();
        public double Max => Scores.Count == 0 ? double.NaN : Scores.Max();
        public double Std => StudyReport.Std(Scores);

        public static RankPoint From(int rank, IReadOnlyList<TrialRecord> trials, string metric)
        {
            var scores = trials.Where(t => t.State == TrialState.Succeeded && t.Metrics.ContainsKey(metric)).Select(t => t.Metrics[metric]).ToList();
            var pruned = trials.Where(t => t.State == TrialState.Pruned && t.Metrics.ContainsKey(metric)).Select(t => t.Metrics[metric]).ToList();
            var counted = trials.Where(t => t.TrainableParameters > 0).ToList();
            var parameters = counted.Count == 0 ? 0 : (long)Math.Round(counted.Average(t => (double)t.TrainableParameters));
            return new RankPoint(rank, scores, pruned, parameters);
        }
    }

    private static double Std(IReadOnlyList<double> values)
    {
        if (values.Count < 2) return 0;
        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }

    /// <summary>Text with its digit runs compared as numbers: seed=2 before seed=10, alpha=2 before alpha=16.</summary>
    private static readonly Comparer<string> NaturalOrder = Comparer<string>.Create((a, b) =>
    {
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            if (char.IsAsciiDigit(a[i]) && char.IsAsciiDigit(b[j]))
            {
                int si = i, sj = j;
                while (i < a.Length && char.IsAsciiDigit(a[i])) i++;
                while (j < b.Length && char.IsAsciiDigit(b[j])) j++;
                var x = a[si..i].TrimStart('0');
                var y = b[sj..j].TrimStart('0');
                var byNumber = x.Length != y.Length ? x.Length.CompareTo(y.Length) : string.CompareOrdinal(x, y);
                if (byNumber != 0) return byNumber;
            }
            else
            {
                if (a[i] != b[j]) return a[i].CompareTo(b[j]);
                i++;
                j++;
            }
        }
        return (a.Length - i).CompareTo(b.Length - j);
    });

    /// <summary>The trial's LoRA rank: its <c>rank</c> parameter, else the rank in its config.</summary>
    private static int? Rank(TrialRecord t) => t.Value("rank") is { Kind: ParameterValueKind.Integer } rank ? (int)rank.Integer : null;
}
