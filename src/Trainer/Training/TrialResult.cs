using System.Text.Json.Serialization;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Metrics;

namespace Orchestrator.Trainer.Training;

/// <summary>The `result.json` of a trial: what ran, what it scored, and the sha256 of every file it wrote.</summary>
public sealed record TrialResult
{
    public const string FileName = "result.json";

    [JsonPropertyName("config")] public required TrainingConfig Config { get; init; }
    [JsonPropertyName("base")] public required BaseModelSpec Base { get; init; }
    [JsonPropertyName("base_model_hash")] public required string BaseModelHash { get; init; }
    [JsonPropertyName("base_model_source")] public required string BaseModelSource { get; init; }
    /// <summary>Written as the member name (`Classification`, `CausalLm`, ...), as result.json always held it.</summary>
    [JsonPropertyName("task"), JsonConverter(typeof(JsonStringEnumConverter<TaskKind>))] public required TaskKind Task { get; init; }
    [JsonPropertyName("metrics")] public required IReadOnlyDictionary<string, double> Metrics { get; init; }
    [JsonPropertyName("trainable_params")] public long TrainableParameters { get; init; }
    [JsonPropertyName("total_params")] public long TotalParameters { get; init; }
    [JsonPropertyName("steps")] public long Steps { get; init; }
    [JsonPropertyName("total_steps")] public long TotalSteps { get; init; }
    [JsonPropertyName("evaluations")] public int Evaluations { get; init; }
    [JsonPropertyName("stopped_early")] public bool StoppedEarly { get; init; }
    [JsonPropertyName("resumed_from")] public string? ResumedFrom { get; init; }
    [JsonPropertyName("last_checkpoint")] public string? LastCheckpoint { get; init; }
    [JsonPropertyName("device")] public required string Device { get; init; }
    [JsonPropertyName("threads")] public int Threads { get; init; }
    [JsonPropertyName("timings")] public required TrialTimings Timings { get; init; }
    /// <summary>sha256 of every file the trial wrote besides this one (checkpoints carry their own in checkpoint.json), by path relative to the trial folder.</summary>
    [JsonPropertyName("files")] public required IReadOnlyDictionary<string, string> Files { get; init; }
    /// <summary>The pack the trial trained in; absent for a trial trained alone (whose result keeps its bytes).</summary>
    [JsonPropertyName("pack"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public PackPlacement? Pack { get; init; }
    /// <summary>
    /// The process's peak resident memory during the trial over a baseline taken before it loaded anything, in bytes
    /// (see <see cref="Memory.PeakMemory"/>); a packed trial records its pack's. Absent where it cannot be measured (not Linux).
    /// </summary>
    [JsonPropertyName("peak_memory_bytes"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? PeakMemoryBytes { get; init; }
    /// <summary>The part of that peak after the base was loaded and prepared (training and evaluation), over the same baseline.</summary>
    [JsonPropertyName("peak_memory_training_bytes"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? PeakMemoryTrainingBytes { get; init; }
}

/// <summary>Where a packed trial sat: its pack, the pack's members in batch order (trial ids or folder names), and how the low-rank products were batched.</summary>
public sealed record PackPlacement
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("members")] public required IReadOnlyList<string> Members { get; init; }
    [JsonPropertyName("batching")] public required string Batching { get; init; }
}

public sealed record TrialTimings
{
    [JsonPropertyName("base_seconds")] public double BaseSeconds { get; init; }
    [JsonPropertyName("pretrain_seconds")] public double PretrainSeconds { get; init; }
    [JsonPropertyName("train_seconds")] public double TrainSeconds { get; init; }
    [JsonPropertyName("total_seconds")] public double TotalSeconds { get; init; }
    [JsonPropertyName("steps_per_second")] public double StepsPerSecond { get; init; }
}
