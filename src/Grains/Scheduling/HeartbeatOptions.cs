namespace Orchestrator.Grains.Scheduling;

/// <summary>Timing of failure detection. Tests shorten these; the defaults suit real trials.</summary>
public sealed class HeartbeatOptions
{
    /// <summary>A running trial with no progress report for this long has lost its worker and is re-queued.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan HeartbeatCheckInterval { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>A worker not seen for this long is no longer listed by `workers`.</summary>
    public TimeSpan WorkerExpiry { get; set; } = TimeSpan.FromSeconds(60);
}
