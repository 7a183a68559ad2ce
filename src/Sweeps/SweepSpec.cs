using System.Text.Json.Nodes;
using Orchestrator.Trainer.Configuration;

namespace Orchestrator.Sweeps;

/// <summary>A validated sweep file. Built by <see cref="SweepFile.Parse"/>; expanded into trials by <see cref="SweepExpander"/>.</summary>
public sealed record SweepSpec
{
    public required string Name { get; init; }
    public string Description { get; init; } = "";
    /// <summary>Master seed: random draws and every trial's trainer seed derive from it.</summary>
    public long Seed { get; init; }
    public required TaskSpec Task { get; init; }
    public required MetricSpec Metric { get; init; }
    public SweepMethod Method { get; init; } = SweepMethod.Grid;
    /// <summary>Random: how many samples to draw. Grid: an upper bound (the first N trials in grid order), so raising it only appends trials.</summary>
    public int RunCap { get; init; } = SweepFile.MaxRunCap;
    public int Parallel { get; init; } = 1;
    /// <summary>Retries per trial before it is marked failed.</summary>
    public int MaxFailures { get; init; } = 2;
    public IReadOnlyList<BaselineKind> Baselines { get; init; } = [];
    /// <summary>Parameters in file order (grid order: the first varies slowest).</summary>
    public IReadOnlyList<KeyValuePair<string, ParameterSpec>> Parameters { get; init; } = [];
    public EarlyTerminationSpec? EarlyTerminate { get; init; }
    /// <summary>The YAML exactly as given, so the artifact store can keep `spec.yaml`.</summary>
    public string SourceText { get; init; } = "";
    public string SourceName { get; init; } = "";
}

public sealed record TaskSpec(string Model, string Dataset, BaseModelSpec? Base);

public sealed record MetricSpec(string Name, MetricGoal Goal);

public enum MetricGoal { Maximize, Minimize }

public enum SweepMethod { Grid, Random }

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

/// <summary>`distribution: ...` with `min`/`max`/`q`, or `categorical` with `values`. Random sweeps only.</summary>
public sealed record DistributionParameter(DistributionKind Kind, double Min, double Max, double Q, IReadOnlyList<JsonNode> Values) : ParameterSpec;

public enum DistributionKind { Uniform, IntUniform, LogUniformValues, QUniform, Categorical }

/// <summary>`early_terminate`. `iter` counts the trial's evaluations (its first evaluation is iteration 1).</summary>
public abstract record EarlyTerminationSpec;

/// <summary>Asynchronous successive halving; rungs at min_iter·eta^k &lt; max_iter. Brackets &gt; 1 behave like <see cref="HyperbandSpec"/>.</summary>
public sealed record AshaSpec(int MinIter, int MaxIter, int Eta, int Brackets) : EarlyTerminationSpec;

/// <summary>Several ASHA brackets, bracket s starting its rungs at min_iter·eta^s.</summary>
public sealed record HyperbandSpec(int MinIter, int MaxIter, int Eta, int Brackets) : EarlyTerminationSpec;

/// <summary>Median stopping: from start_iter on, once min_trials trials have completed.</summary>
public sealed record MedianStopSpec(int MinTrials, int StartIter) : EarlyTerminationSpec;
