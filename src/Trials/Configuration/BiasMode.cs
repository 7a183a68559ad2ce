using System.Text.Json.Serialization;

namespace Orchestrator.Trials.Configuration;

/// <summary>Which biases train beside a LoRA adapter (PEFT's bias).</summary>
[JsonConverter(typeof(ConfigEnumConverter<BiasMode>))]
public enum BiasMode
{
    [JsonStringEnumMemberName("none")] None,
    /// <summary>Every bias of the model.</summary>
    [JsonStringEnumMemberName("all")] All,
    /// <summary>The biases of the adapted modules only.</summary>
    [JsonStringEnumMemberName("lora_only")] LoraOnly,
}
