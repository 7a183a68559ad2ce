using System.Text.Json.Serialization;

namespace Orchestrator.Trials.Configuration;

/// <summary>
/// Where a trial's frozen base weights come from: pretrained here (built-in models; the rank study's protocol,
/// cached by a hash of this spec, model and dataset) or a checkpoint (safetensors file or Hugging Face folder).
/// </summary>
public sealed record BaseModelSpec
{
    [JsonPropertyName("pretrain")] public PretrainSpec? Pretrain { get; init; }
    [JsonPropertyName("checkpoint")] public string? Checkpoint { get; init; }
}

/// <summary>How a built-in base is pretrained: the one set of defaults, read by sweep files (`base: {pretrain: {}}`) and `train`.</summary>
public sealed record PretrainSpec
{
    public static readonly PretrainSpec Defaults = new();

    [JsonPropertyName("epochs")] public int Epochs { get; init; } = 5;
    [JsonPropertyName("lr")] public double LearningRate { get; init; } = 2e-4;
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; } = 1024;
    [JsonPropertyName("seed")] public long Seed { get; init; }
}
