namespace Orchestrator.Contracts.Workers;

/// <summary>One accelerator slot of one silo (key "{silo}/{slot}"), activated on that silo by its trainer service.</summary>
[Alias("worker")]
public interface IWorkerGrain : IGrainWithStringKey
{
    [Alias("heartbeat")] Task HeartbeatAsync(WorkerInfo info, CancellationToken cancellationToken = default);
    [Alias("info")] Task<WorkerInfo?> GetInfoAsync(CancellationToken cancellationToken = default);
}

[GenerateSerializer, Immutable, Alias("WorkerInfo")]
public sealed record WorkerInfo(
    [property: Id(0)] string WorkerId,
    [property: Id(1)] string Silo,
    [property: Id(2)] string Device,
    [property: Id(3)] string Accelerator,
    [property: Id(4)] long MemoryBytes,
    [property: Id(5)] string? Sweep,
    [property: Id(6)] string? TrialId,
    [property: Id(7)] long Step,
    [property: Id(8)] long TotalSteps,
    [property: Id(9)] DateTimeOffset LastSeen,
    [property: Id(10)] bool Draining,
    [property: Id(11)] string? Pack = null);
