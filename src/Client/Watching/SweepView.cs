using System.Globalization;
using Orchestrator.Client.Output;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Orchestrator.Client.Watching;

/// <summary>One look at a sweep: its status and every trial, as the live view draws it.</summary>
public sealed record SweepSnapshot(SweepStatus Status, IReadOnlyList<TrialRecord> Trials)
{
    /// <summary>How many of the best results the view lists.</summary>
    public const int BestShown = 3;

    public IReadOnlyList<TrialRecord> Running { get; } = [.. Trials.Where(t => t.State == TrialState.Running).OrderBy(t => t.TrialId, StringComparer.Ordinal)];

    /// <summary>The best finished (or pruned) trials by the sweep's objective, best first.</summary>
    public IReadOnlyList<TrialRecord> Best { get; } = [.. Status.Objective
        .RankTrials(Trials.Where(t => t.State is TrialState.Succeeded or TrialState.Pruned && t.Metric(Status.Metric) is not null),
            t => t.Metric(Status.Metric), t => t.Pruned, t => t.TrialId)
        .Take(BestShown)];
}

/// <summary>
/// The live view of `run` and `watch`: a summary line, one row per running trial, and the best few so far. Finished
/// trials leave the view (a 1,000-trial sweep stays one screen); redirected output gets one line per event instead.
/// </summary>
public static class SweepView
{
    /// <summary>At most this many running trials are drawn; the rest are counted.</summary>
    public const int RunningShown = 16;

    private const int BarWidth = 20;

    public static string Summary(SweepStatus s)
    {
        var best = s.BestMetric is { } b ? $" · best {s.Metric} {ConsoleOutput.Number(b)} ({s.BestTrial})" : "";
        var state = s.IsTerminal || s.State == SweepState.Paused ? $" · {s.State.ToString().ToLowerInvariant()}" : "";
        return $"{s.Name}: {s.Done}/{s.Total} done ({s.Succeeded} succeeded, {s.Pruned} pruned, {s.Failed} failed), {s.Running} running{best}{state}";
    }

    public static IRenderable Render(SweepSnapshot snapshot)
    {
        var rows = new List<IRenderable> { new Markup($"[bold]{Markup.Escape(Summary(snapshot.Status))}[/]") };
        if (snapshot.Running.Count > 0)
        {
            var running = new Table().Border(TableBorder.None).HideHeaders()
                .AddColumn(new TableColumn("trial").NoWrap()).AddColumn(new TableColumn("progress").NoWrap()).AddColumn(new TableColumn("about"));
            foreach (var t in snapshot.Running.Take(RunningShown))
                running.AddRow(Markup.Escape(t.TrialId), Markup.Escape(Bar(t)), Markup.Escape(Describe(t)));
            if (snapshot.Running.Count > RunningShown)
                running.AddRow("", "", Markup.Escape($"… and {snapshot.Running.Count - RunningShown} more running"));
            rows.Add(running);
        }
        if (snapshot.Best.Count > 0)
        {
            var best = new Table().Border(TableBorder.None).Title($"best {Markup.Escape(snapshot.Status.Metric)} so far")
                .AddColumn("#").AddColumn("trial").AddColumn(new TableColumn(Markup.Escape(snapshot.Status.Metric)).RightAligned()).AddColumn("about");
            foreach (var (t, i) in snapshot.Best.Select((t, i) => (t, i)))
                best.AddRow((i + 1).ToString(CultureInfo.InvariantCulture), Markup.Escape(t.TrialId),
                    ConsoleOutput.Number(t.Metric(snapshot.Status.Metric)!.Value), Markup.Escape(Describe(t) + (t.Pruned ? " (pruned)" : "")));
            rows.Add(best);
        }
        return new Rows(rows);
    }

    /// <summary>The lines redirected output gets between two snapshots: trials that started or ended, and the summary when it moved.</summary>
    public static IEnumerable<string> Changes(SweepSnapshot? before, SweepSnapshot now)
    {
        var previous = before?.Trials.ToDictionary(t => t.TrialId, StringComparer.Ordinal) ?? [];
        foreach (var t in now.Trials)
        {
            var was = previous.GetValueOrDefault(t.TrialId)?.State;
            if (was == t.State) continue;
            if (t.State == TrialState.Running)
                yield return $"  {t.TrialId} started on {t.Worker ?? "?"}{(t.Pack is { } pack ? $" in pack {pack}" : "")} {Describe(t)}";
            else if (t.State is not TrialState.Queued)
                yield return $"  {t.TrialId} {t.State.ToString().ToLowerInvariant()} {Describe(t)}{(t.Error is { } e ? ": " + e.ReplaceLineEndings(" ") : "")}";
        }
        if (before is null || before.Status.Done != now.Status.Done || before.Status.State != now.Status.State)
            yield return Summary(now.Status);
    }

    /// <summary>`[lora] rank=8 lr=0.001 test_accuracy=0.91`: kind, the parameters people compare on, the headline metrics.</summary>
    public static string Describe(TrialRecord t)
    {
        var shown = t.Parameters.Where(p => p.Key is "rank" or "alpha" or "lr" or "seed" or "target_modules" || t.Parameters.Count <= 3)
            .Select(p => $"{p.Key}={p.Value}");
        var metric = t.Metrics.Where(m => m.Key.StartsWith("test_", StringComparison.Ordinal) || m.Key == "train_loss")
            .Select(m => $"{m.Key}={ConsoleOutput.Number(m.Value)}").Take(2);
        return $"[{t.Kind.Name()}] {string.Join(' ', shown)} {string.Join(' ', metric)}".TrimEnd();
    }

    private static string Bar(TrialRecord t)
    {
        var fraction = t.TotalSteps > 0 ? Math.Clamp((double)t.Step / t.TotalSteps, 0, 1) : 0;
        var filled = (int)Math.Round(fraction * BarWidth);
        return new string('█', filled) + new string('░', BarWidth - filled) + string.Create(CultureInfo.InvariantCulture, $" {fraction * 100,3:0}% {t.Step}/{t.TotalSteps}");
    }
}
