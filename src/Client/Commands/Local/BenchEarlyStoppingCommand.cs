using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using Orchestrator.Client.Output;
using Orchestrator.Sweeps;
using Orchestrator.Sweeps.EarlyStopping;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Client.Commands.Local;

/// <summary>One pass over a sweep's trials: what it cost and what it found.</summary>
public sealed record EarlyStoppingPass
{
    [JsonPropertyName("early_terminate")] public required string EarlyTerminate { get; init; }
    [JsonPropertyName("trials")] public int Trials { get; init; }
    [JsonPropertyName("pruned")] public int Pruned { get; init; }
    [JsonPropertyName("total_steps")] public long TotalSteps { get; init; }
    [JsonPropertyName("best_trial")] public required string BestTrial { get; init; }
    [JsonPropertyName("best_parameters")] public required IReadOnlyDictionary<string, ParameterValue> BestParameters { get; init; }
    [JsonPropertyName("best_metric")] public double BestMetric { get; init; }
    [JsonPropertyName("seconds")] public double Seconds { get; init; }
    [JsonPropertyName("trial_runs")] public required IReadOnlyList<EarlyStoppingTrialRun> TrialRuns { get; init; }
}

/// <summary>One trial of a pass, with the metric at each evaluation (what the policy saw), for tuning the rungs.</summary>
public sealed record EarlyStoppingTrialRun(
    [property: JsonPropertyName("trial")] string Trial,
    [property: JsonPropertyName("parameters")] IReadOnlyDictionary<string, ParameterValue> Parameters,
    [property: JsonPropertyName("steps")] long Steps,
    [property: JsonPropertyName("metric")] double Metric,
    [property: JsonPropertyName("pruned")] bool Pruned,
    [property: JsonPropertyName("curve")] IReadOnlyList<double> Curve);

/// <summary>The sweep with and without its early termination.</summary>
public sealed record EarlyStoppingBenchmark
{
    /// <summary>How close the early-stopped best must come to the grid's: 0.5 percentage points of a [0, 1] metric.</summary>
    public const double Tolerance = 0.005;

    [JsonPropertyName("sweep")] public required string Sweep { get; init; }
    [JsonPropertyName("metric")] public required string Metric { get; init; }
    [JsonPropertyName("goal")] public required string Goal { get; init; }
    [JsonPropertyName("without")] public required EarlyStoppingPass Without { get; init; }
    [JsonPropertyName("with")] public required EarlyStoppingPass With { get; init; }
    [JsonPropertyName("steps_ratio")] public double StepsRatio => Without.TotalSteps > 0 ? (double)With.TotalSteps / Without.TotalSteps : double.NaN;
    /// <summary>How much worse the early-stopped best is than the grid's best, in metric units (≤ 0: as good or better).</summary>
    [JsonPropertyName("best_gap")] public double BestGap { get; init; }
    [JsonPropertyName("best_within_tolerance")] public bool BestWithinTolerance => BestGap <= Tolerance;
    [JsonPropertyName("same_best_trial")] public bool SameBestTrial => With.BestTrial == Without.BestTrial;
    /// <summary>The issue's goal: at most 35% of the grid's steps, best within 0.5 points.</summary>
    [JsonPropertyName("goal_met")] public bool GoalMet => StepsRatio <= 0.35 && BestWithinTolerance;
}

/// <summary>
/// <c>bench early-stopping SWEEP.yaml</c>: trains every trial of the sweep in this process, one at a time, twice:
/// with the file's <c>early_terminate</c> (the policy fed at each evaluation as the sweep grain feeds it, a stop
/// answered at once) and without. Reports each pass's training steps and best trial. A benchmark, not a test: on
/// the shipped ASHA sweep it trains 28 MNIST trials twice.
/// </summary>
public sealed class BenchEarlyStoppingCommand : OrchestratorCommand
{
    private static readonly Argument<string> SweepArgument = new("sweep") { Description = "The sweep file (it must have early_terminate)." };
    private static readonly Option<string?> WorkDirOption = new("--work-dir") { Description = "Where trials write (default: a temp folder, removed afterwards)." };

    public BenchEarlyStoppingCommand() : base("early-stopping", "Train a sweep with and without its early termination; compare steps and the best trial.")
    {
        Arguments.Add(SweepArgument);
        Options.Add(WorkDirOption);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var path = parseResult.GetValue(SweepArgument)!;
        SweepSpec spec;
        try
        {
            spec = SweepFile.Load(path);
        }
        catch (Exception e) when (e is IOException or SweepValidationException)
        {
            throw new UserInputException(e.Message);
        }
        if (spec.EarlyTerminate is null) throw new UserInputException($"{path} has no early_terminate to compare against.");

        var workDir = parseResult.GetValue(WorkDirOption);
        var temporary = workDir is null;
        workDir ??= Path.Combine(Path.GetTempPath(), $"bench-early-stopping-{Guid.NewGuid():N}");
        try
        {
            var result = await Task.Run(() => Run(spec, Path.GetFileName(path), workDir, dataDirectory: null, output, cancellationToken), cancellationToken);
            if (output.IsJson)
            {
                output.Json(result);
                return ExitCodes.Success;
            }
            Render(output, result);
            return ExitCodes.Success;
        }
        finally
        {
            if (temporary)
            {
                try { Directory.Delete(workDir, recursive: true); } catch (IOException) { }
            }
        }
    }

    public static EarlyStoppingBenchmark Run(SweepSpec spec, string name, string workDir, string? dataDirectory, ConsoleOutput output, CancellationToken cancellationToken)
    {
        var bases = Path.Combine(workDir, "bases");
        var without = Pass(spec with { EarlyTerminate = null }, "none", Path.Combine(workDir, "without"), bases, dataDirectory, output, cancellationToken);
        var with = Pass(spec, Describe(spec.EarlyTerminate), Path.Combine(workDir, "with"), bases, dataDirectory, output, cancellationToken);
        var sign = spec.Metric.Goal == MetricGoal.Maximize ? 1 : -1;
        return new EarlyStoppingBenchmark
        {
            Sweep = name, Metric = spec.Metric.Name, Goal = spec.Metric.Goal.ToString().ToLowerInvariant(),
            Without = without, With = with, BestGap = sign * (without.BestMetric - with.BestMetric),
        };
    }

    private static EarlyStoppingPass Pass(SweepSpec spec, string label, string directory, string bases, string? dataDir,
        ConsoleOutput output, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var policy = EarlyStoppingPolicy.Create(spec.EarlyTerminate, spec.Metric.Goal);
        var plans = SweepExpander.Expand(spec);
        var baseSpec = spec.Task.Base ?? new BaseModelSpec();
        var objective = new MetricObjective(spec.Metric.Name, spec.Metric.Goal == MetricGoal.Maximize);
        long steps = 0;
        var pruned = 0;
        var runs = new List<EarlyStoppingTrialRun>();
        TrialPlan? best = null;
        var bestMetric = double.NaN;
        foreach (var plan in plans)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var observer = new PolicyObserver(policy, plan.TrialId, spec.Metric.Name);
            var request = new TrainingRequest(plan.Config, baseSpec, Path.Combine(directory, plan.TrialId), bases) { DataDirectory = dataDir };
            var outcome = TrialTrainer.Run(request, observer, cancellationToken);
            policy.Completed(plan.TrialId, observer.Curve);
            steps += outcome.Steps;
            if (outcome.StoppedEarly) pruned++;
            var metric = outcome.Metrics.TryGetValue(spec.Metric.Name, out var m) ? m : double.NaN;
            runs.Add(new EarlyStoppingTrialRun(plan.TrialId, plan.Parameters, outcome.Steps, metric, outcome.StoppedEarly,
                observer.Curve.Select(p => p.Metric).ToList()));
            // A pruned trial keeps its last metric and competes with it, as on the leaderboard.
            if (!double.IsNaN(metric) && (best is null || objective.IsBetter(metric, bestMetric)))
            {
                best = plan;
                bestMetric = metric;
            }
            output.Note($"[{label}] {plan.TrialId} {Format(plan.Parameters)}: {outcome.Steps} steps, {spec.Metric.Name} {metric.ToString("0.0000", CultureInfo.InvariantCulture)}{(outcome.StoppedEarly ? " (pruned)" : "")}");
        }
        return new EarlyStoppingPass
        {
            EarlyTerminate = label, Trials = plans.Count, Pruned = pruned, TotalSteps = steps,
            BestTrial = best?.TrialId ?? "-", BestParameters = best?.Parameters ?? new Dictionary<string, ParameterValue>(),
            BestMetric = bestMetric, Seconds = watch.Elapsed.TotalSeconds, TrialRuns = runs,
        };
    }

    /// <summary>What the sweep grain does with a trial's reports: each evaluation's metric goes to the policy; a stop ends the trial.</summary>
    private sealed class PolicyObserver(EarlyStoppingPolicy policy, string trialId, string metricName) : ITrainingObserver
    {
        public List<(int Iteration, double Metric)> Curve { get; } = [];

        public bool OnProgress(TrainingProgress progress)
        {
            if (!progress.IsEvaluation || !progress.Metrics.TryGetValue(metricName, out var metric)) return true;
            Curve.Add((progress.Evaluation, metric));
            return policy.Report(trialId, progress.Evaluation, metric) != Decision.Stop;
        }

        public void OnCheckpoint(string directory, long step) { }
    }

    private static string Describe(EarlyTerminationSpec? spec) => spec switch
    {
        AshaSpec a => $"asha(min_iter {a.MinIter}, max_iter {a.MaxIter}, eta {a.Eta.ToString(System.Globalization.CultureInfo.InvariantCulture)}, brackets {a.Brackets})",
        HyperbandSpec h => $"hyperband(min_iter {h.MinIter}, max_iter {h.MaxIter}, eta {h.Eta.ToString(System.Globalization.CultureInfo.InvariantCulture)}, brackets {h.Brackets})",
        MedianStopSpec m => $"median(min_trials {m.MinTrials}, start_iter {m.StartIter})",
        _ => "none",
    };

    private static string Format(IReadOnlyDictionary<string, ParameterValue> parameters) =>
        string.Join(" ", parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

    private static void Render(ConsoleOutput output, EarlyStoppingBenchmark result)
    {
        string F(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);
        output.Table(
            ["early_terminate", "trials", "pruned", "steps", "best trial", $"best {result.Metric}", "seconds"],
            new[] { result.Without, result.With }.Select(p => (IReadOnlyList<string>)new[]
            {
                p.EarlyTerminate, p.Trials.ToString(CultureInfo.InvariantCulture), p.Pruned.ToString(CultureInfo.InvariantCulture),
                p.TotalSteps.ToString(CultureInfo.InvariantCulture), $"{p.BestTrial} {Format(p.BestParameters)}", F(p.BestMetric),
                p.Seconds.ToString("0", CultureInfo.InvariantCulture),
            }));
        output.KeyValues(
        [
            ("steps ratio", $"{(100 * result.StepsRatio).ToString("0.0", CultureInfo.InvariantCulture)}% of the grid's steps (goal ≤ 35%)"),
            ("best gap", $"{F(result.BestGap)} ({(result.BestWithinTolerance ? "within" : "outside")} {EarlyStoppingBenchmark.Tolerance.ToString(CultureInfo.InvariantCulture)}; same trial: {(result.SameBestTrial ? "yes" : "no")})"),
            ("goal", result.GoalMet ? "met" : "missed"),
        ]);
    }
}
