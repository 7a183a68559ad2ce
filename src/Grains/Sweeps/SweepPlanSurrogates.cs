using Orchestrator.Grains.Journal;

namespace Orchestrator.Grains.Sweeps;

/// <summary>
/// How a <see cref="SweepPlan"/>'s settings and planned trials cross the wire: as the JSON the journal keeps them in
/// (<see cref="JournalJson"/>), so the form a grain receives is the form it journals and replays, and the records stay
/// free of Orleans attributes. Found by Orleans itself (<c>[RegisterConverter]</c>) on the client and every silo.
/// </summary>
[GenerateSerializer, Alias("JournalJson")]
public struct JournalJsonSurrogate
{
    [Id(0)] public string Json;
}

[RegisterConverter]
public sealed class SweepSettingsConverter : IConverter<SweepSettings, JournalJsonSurrogate>
{
    public SweepSettings ConvertFromSurrogate(in JournalJsonSurrogate surrogate) => JournalJson.Deserialize<SweepSettings>(surrogate.Json);
    public JournalJsonSurrogate ConvertToSurrogate(in SweepSettings value) => new() { Json = JournalJson.Serialize(value) };
}

[RegisterConverter]
public sealed class PlannedTrialConverter : IConverter<PlannedTrial, JournalJsonSurrogate>
{
    public PlannedTrial ConvertFromSurrogate(in JournalJsonSurrogate surrogate) => JournalJson.Deserialize<PlannedTrial>(surrogate.Json);
    public JournalJsonSurrogate ConvertToSurrogate(in PlannedTrial value) => new() { Json = JournalJson.Serialize(value) };
}
