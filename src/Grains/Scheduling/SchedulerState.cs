namespace Orchestrator.Grains.Scheduling;

[GenerateSerializer, Alias("SchedulerState")]
public sealed class SchedulerState
{
    /// <summary>Sweeps with trials to hand out (running or paused), in submission order.</summary>
    [Id(0)] public List<string> Active { get; set; } = [];
    /// <summary>Every sweep ever submitted to this cluster, in submission order.</summary>
    [Id(1)] public List<string> Known { get; set; } = [];
}
