using Orchestrator.Grains.Journal;

namespace Orchestrator.Grains.Sweeps;

/// <summary>
/// How a <see cref="SweepPlan"/>'s settings and planned trials cross the wire: as the JSON the journal keeps them in
/// (<see cref="JournalJson"/>), so the form a grain receives is the form it journals and replays, and the records stay
/// free of Orleans attributes. Found by Orleans itself (<c>[RegisterConverter]</c>) on the client and every silo.
/// </summary>
[RegisterConverter]
public sealed class SweepSettingsConverter : IConverter<SweepSettings, JsonSurrogate>
{
    public SweepSettings ConvertFromSurrogate(in JsonSurrogate surrogate) => JournalJson.Deserialize<SweepSettings>(surrogate.Json);
    public JsonSurrogate ConvertToSurrogate(in SweepSettings value) => new() { Json = JournalJson.Serialize(value) };
}

[RegisterConverter]
public sealed class PlannedTrialConverter : IConverter<PlannedTrial, JsonSurrogate>
{
    public PlannedTrial ConvertFromSurrogate(in JsonSurrogate surrogate) => JournalJson.Deserialize<PlannedTrial>(surrogate.Json);
    public JsonSurrogate ConvertToSurrogate(in PlannedTrial value) => new() { Json = JournalJson.Serialize(value) };
}
