using System.Text.Json.Serialization;

namespace Orchestrator.Trials.Configuration;

/// <summary>The learning-rate schedule after the warm-up (the config's `schedule`).</summary>
[JsonConverter(typeof(ConfigEnumConverter<ScheduleKind>))]
public enum ScheduleKind
{
    [JsonStringEnumMemberName("constant")] Constant,
    [JsonStringEnumMemberName("linear")] Linear,
    [JsonStringEnumMemberName("cosine")] Cosine,
}
