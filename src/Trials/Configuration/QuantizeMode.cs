using System.Text.Json.Serialization;

namespace Orchestrator.Trials.Configuration;

/// <summary>How a frozen base's linear weights may be held (QLoRA's NF4, LLM.int8()'s row-wise int8) or not.</summary>
[JsonConverter(typeof(ConfigEnumConverter<QuantizeMode>))]
public enum QuantizeMode
{
    [JsonStringEnumMemberName("none")] None,
    [JsonStringEnumMemberName("nf4")] Nf4,
    [JsonStringEnumMemberName("int8")] Int8,
}

public static class QuantizeModeExtensions
{
    /// <summary>Whether a config's base is quantised (a null quantize is none).</summary>
    public static bool IsQuantized(this QuantizeMode? quantize) => quantize is QuantizeMode.Nf4 or QuantizeMode.Int8;
}
