using System.Text.Json.Serialization;

namespace Orchestrator.Trials.Configuration;

/// <summary>What trains in a trial (the config's `adapter`).</summary>
[JsonConverter(typeof(ConfigEnumConverter<AdapterKind>))]
public enum AdapterKind
{
    /// <summary>A LoRA adapter on a frozen base.</summary>
    [JsonStringEnumMemberName("lora")] Lora,
    /// <summary>Every weight trains (full fine-tuning).</summary>
    [JsonStringEnumMemberName("full")] Full,
    /// <summary>Nothing trains: the frozen base is evaluated (a baseline).</summary>
    [JsonStringEnumMemberName("base")] Base,
}
