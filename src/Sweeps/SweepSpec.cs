using System.Text.Json.Nodes;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Sweeps;

/// <summary>A validated sweep file. Built by <see cref="SweepFile.Parse"/>; expanded into trials by <see cref="SweepExpander"/>.</summary>
public sealed record SweepSpec
{
    /// <summary>The stored name: a valid <see cref="Orchestrator.Contracts.Sweeps.SweepName"/> (the file's `name` slugified, or the file name's).</summary>
    public required string Name { get; init; }
    /// <summary>The name as the file wrote it (W&amp;B allows free text); equals <see cref="Name"/> when that was already valid.</summary>
    public string DisplayName { get; init; } = "";
    public string Description { get; init; } = "";
    /// <summary>Master seed: random draws and every trial's trainer seed derive from it.</summary>
    public long Seed { get; init; }
    public required TaskSpec Task { get; init; }
    /// <summary>The objective that ranks trials (the first of <see cref="Objectives"/>).</summary>
    public required MetricSpec Metric { get; init; }
    /// <summary>Every objective (`metrics:`, W&amp;B's multi-objective spelling); one entry for `metric:`.</summary>
    public IReadOnlyList<MetricSpec> Objectives { get; init; } = [];
    public SweepMethod Method { get; init; } = SweepMethod.Grid;
    /// <summary>Random and bayes: how many trials to draw or suggest. Grid: an upper bound (the first N trials in grid order), so raising it only appends trials.</summary>
    public int RunCap { get; init; } = SweepFile.MaxRunCap;
    public int Parallel { get; init; } = 1;
    /// <summary>Retries per trial before it is marked failed.</summary>
    public int MaxFailures { get; init; } = 2;
    public IReadOnlyList<BaselineKind> Baselines { get; init; } = [];
    /// <summary>
    /// Values a baseline trains with instead of the swept ones (`baselines: { full: { lr: 5e-5 } }`): full fine-tuning
    /// and a linear probe want other learning rates than an adapter. Empty for the list form.
    /// </summary>
    public IReadOnlyDictionary<BaselineKind, IReadOnlyList<KeyValuePair<string, JsonNode>>> BaselineParameters { get; init; } =
        new Dictionary<BaselineKind, IReadOnlyList<KeyValuePair<string, JsonNode>>>();
    /// <summary>Parameters in file order (grid order: the first varies slowest).</summary>
    public IReadOnlyList<KeyValuePair<string, ParameterSpec>> Parameters { get; init; } = [];
    public EarlyTerminationSpec? EarlyTerminate { get; init; }
    /// <summary>`pack: auto | off | K`; off when the file does not say.</summary>
    public PackSetting Pack { get; init; } = PackSetting.Off;
    /// <summary>The YAML exactly as given, so the artifact store can keep `spec.yaml`.</summary>
    public string SourceText { get; init; } = "";
    public string SourceName { get; init; } = "";
}

public sealed record TaskSpec(string Model, string Dataset, BaseModelSpec? Base);

public sealed record MetricSpec(string Name, MetricGoal Goal);

public enum MetricGoal { Maximize, Minimize }

/// <summary>Objectives every trial has besides the metrics it reports: what LoRA trades quality against.</summary>
public static class SystemObjectives
{
    public const string TrainableParams = "trainable_params";
    public const string TrainSeconds = "train_seconds";
    /// <summary>The process's peak memory over the trial's baseline (result.json's peak_memory_bytes; Linux).</summary>
    public const string PeakMemoryBytes = "peak_memory_bytes";
    public static readonly IReadOnlyList<string> All = [TrainableParams, TrainSeconds, PeakMemoryBytes];
}

/// <summary>Bayes is TPE (a tree-structured Parzen estimator, as Optuna's TPESampler), not W&amp;B's Gaussian process.</summary>
public enum SweepMethod { Grid, Random, Bayes }

public enum BaselineKind { Full, Base }

/// <summary>How one parameter varies. Values are JSON nodes typed for the trainer option (int, number, bool, string, list, map).</summary>
public abstract record ParameterSpec
{
    public int Line { get; init; } = 1;
    public int Column { get; init; } = 1;
}

/// <summary>`value: x`.</summary>
public sealed record FixedParameter(JsonNode Value) : ParameterSpec;

/// <summary>`values: [a, b, ...]`: every one in a grid, one drawn uniformly in a random sweep.</summary>
/// <summary>`alpha: { per_rank: f }`: alpha = f x rank, so the LoRA scaling alpha/r is f at every rank.</summary>
public sealed record PerRankParameter(double Factor) : ParameterSpec;

public sealed record ValuesParameter(IReadOnlyList<JsonNode> Values) : ParameterSpec;

/// <summary>
/// `distribution: ...` with `min`/`max`/`q` (W&amp;B's meaning: for log_uniform the bounds are exponents of e),
/// `mu`/`sigma` for the normal family, or `categorical` with `values` (and optional `probabilities`). Random and bayes sweeps only.
/// </summary>
public sealed record DistributionParameter(DistributionKind Kind, double Min, double Max, double Q, IReadOnlyList<JsonNode> Values) : ParameterSpec
{
    public double Mu { get; init; }
    public double Sigma { get; init; } = 1;
    /// <summary>Categorical weights, summing to 1; null: uniform.</summary>
    public IReadOnlyList<double>? Probabilities { get; init; }
}

public enum DistributionKind
{
    Uniform, IntUniform, LogUniformValues, QUniform, Categorical, LogUniform, QLogUniformValues, InvLogUniformValues,
    Normal, QNormal, LogNormal, QLogNormal, QLogUniform,
}

/// <summary>The sweep-file spelling of each <see cref="DistributionKind"/>.</summary>
public static class DistributionNames
{
    public static readonly IReadOnlyDictionary<string, DistributionKind> ByName = new Dictionary<string, DistributionKind>(StringComparer.Ordinal)
    {
        ["uniform"] = DistributionKind.Uniform, ["int_uniform"] = DistributionKind.IntUniform, ["q_uniform"] = DistributionKind.QUniform,
        ["log_uniform"] = DistributionKind.LogUniform, ["q_log_uniform"] = DistributionKind.QLogUniform,
        ["log_uniform_values"] = DistributionKind.LogUniformValues, ["q_log_uniform_values"] = DistributionKind.QLogUniformValues,
        ["inv_log_uniform_values"] = DistributionKind.InvLogUniformValues, ["categorical"] = DistributionKind.Categorical,
        ["normal"] = DistributionKind.Normal, ["q_normal"] = DistributionKind.QNormal, ["log_normal"] = DistributionKind.LogNormal,
        ["q_log_normal"] = DistributionKind.QLogNormal,
    };

    public static string Name(this DistributionKind kind) => ByName.First(kv => kv.Value == kind).Key;

    public static bool IsNormal(this DistributionKind k) => k is DistributionKind.Normal or DistributionKind.QNormal or DistributionKind.LogNormal or DistributionKind.QLogNormal;

    public static bool IsQuantised(this DistributionKind k) =>
        k is DistributionKind.QUniform or DistributionKind.QLogUniform or DistributionKind.QLogUniformValues or DistributionKind.QNormal or DistributionKind.QLogNormal;

    /// <summary>Draws whose logarithm is uniform or normal.</summary>
    public static bool IsLog(this DistributionKind k) =>
        k is DistributionKind.LogUniform or DistributionKind.QLogUniform or DistributionKind.LogUniformValues or DistributionKind.QLogUniformValues
            or DistributionKind.InvLogUniformValues or DistributionKind.LogNormal or DistributionKind.QLogNormal;
}

/// <summary>`early_terminate`. `iter` counts the trial's evaluations (its first evaluation is iteration 1).</summary>
public abstract record EarlyTerminationSpec;

/// <summary>Asynchronous successive halving; rungs at min_iter·eta^k &lt; max_iter. Brackets &gt; 1 behave like <see cref="HyperbandSpec"/>.</summary>
public sealed record AshaSpec(int MinIter, int MaxIter, double Eta, int Brackets) : EarlyTerminationSpec;

/// <summary>Several ASHA brackets, bracket s starting its rungs at min_iter·eta^s.</summary>
public sealed record HyperbandSpec(int MinIter, int MaxIter, double Eta, int Brackets) : EarlyTerminationSpec;

/// <summary>Median stopping: from start_iter on, once min_trials trials have completed.</summary>
public sealed record MedianStopSpec(int MinTrials, int StartIter) : EarlyTerminationSpec;
