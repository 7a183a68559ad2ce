using System.Text.Json.Serialization;

namespace Orchestrator.Trials.Configuration;

/// <summary>The types a frozen base can be stored and multiplied in; LoRA's A and B, their gradients and AdamW state stay fp32.</summary>
[JsonConverter(typeof(ConfigEnumConverter<BaseDtype>))]
public enum BaseDtype
{
    [JsonStringEnumMemberName("fp32")] Fp32,
    [JsonStringEnumMemberName("bf16")] Bf16,
    [JsonStringEnumMemberName("fp16")] Fp16,
}

public static class BaseDtypeExtensions
{
    /// <summary>Whether a config's base is stored in a half-precision type (a null base_dtype is fp32).</summary>
    public static bool IsHalf(this BaseDtype? dtype) => dtype is BaseDtype.Bf16 or BaseDtype.Fp16;
}
