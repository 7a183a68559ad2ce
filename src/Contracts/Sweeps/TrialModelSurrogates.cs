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

[GenerateSerializer, Alias("TrialModelJson")]
public struct TrialModelJson
{
    [Id(0)] public string Json;
}

[RegisterConverter]
public sealed class TrainingConfigConverter : IConverter<TrainingConfig, TrialModelJson>
{
    public TrainingConfig ConvertFromSurrogate(in TrialModelJson surrogate) => TrialModelSurrogates.Read<TrainingConfig>(surrogate.Json);
    public TrialModelJson ConvertToSurrogate(in TrainingConfig value) => new() { Json = JsonSerializer.Serialize(value) };
}

[RegisterConverter]
public sealed class BaseModelSpecConverter : IConverter<BaseModelSpec, TrialModelJson>
{
    public BaseModelSpec ConvertFromSurrogate(in TrialModelJson surrogate) => TrialModelSurrogates.Read<BaseModelSpec>(surrogate.Json);
    public TrialModelJson ConvertToSurrogate(in BaseModelSpec value) => new() { Json = JsonSerializer.Serialize(value) };
}
