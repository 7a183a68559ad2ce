using System.Text.Json;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Contracts.Sweeps;

/// <summary>
/// How the trial model's records (<see cref="TrainingConfig"/>, <see cref="BaseModelSpec"/>) cross the wire in a
/// <see cref="TrialLease"/>: as their own JSON (the trial model carries no Orleans attributes, since the trainer must not
/// reference Orleans), so both ends hold the typed record and neither parses a string. Found by Orleans itself.
/// </summary>
public static class TrialModelSurrogates
{
    internal static T Read<T>(string json) => JsonSerializer.Deserialize<T>(json) ?? throw new JsonException($"a {typeof(T).Name} on the wire was null");
}

/// <summary>A record that crosses the wire as its JSON (the one surrogate shape: the trial model's records here, the sweep plan's in Grains).</summary>
[GenerateSerializer, Alias("JsonSurrogate")]
public struct JsonSurrogate
{
    [Id(0)] public string Json;
}

[RegisterConverter]
public sealed class TrainingConfigConverter : IConverter<TrainingConfig, JsonSurrogate>
{
    public TrainingConfig ConvertFromSurrogate(in JsonSurrogate surrogate) => TrialModelSurrogates.Read<TrainingConfig>(surrogate.Json);
    public JsonSurrogate ConvertToSurrogate(in TrainingConfig value) => new() { Json = JsonSerializer.Serialize(value) };
}

[RegisterConverter]
public sealed class BaseModelSpecConverter : IConverter<BaseModelSpec, JsonSurrogate>
{
    public BaseModelSpec ConvertFromSurrogate(in JsonSurrogate surrogate) => TrialModelSurrogates.Read<BaseModelSpec>(surrogate.Json);
    public JsonSurrogate ConvertToSurrogate(in BaseModelSpec value) => new() { Json = JsonSerializer.Serialize(value) };
}
