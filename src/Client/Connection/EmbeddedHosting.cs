using System.Net;

namespace Orchestrator.Client.Connection;

/// <summary>
/// What a verb offers when it turns out to be the first process on an embedded data directory and hosts its silo:
/// trainer slots, and the dashboard that silo serves. A verb that only reads asks for no slots; `run` and
/// `dashboard` ask for some, so a sweep submitted by a later process trains in whichever of them came first.
/// </summary>
/// <param name="Slots">Trials trained at once (0: the silo only hosts grains, for a verb that exits in seconds).</param>
/// <param name="Owner">The verb, named to later processes ("the sweep trains in `dashboard` (pid 1234)"); null: not named.</param>
public sealed record EmbeddedHosting(int Slots, string? Owner = null)
{
    /// <summary>Where the silo serves the dashboard: by default a free port on loopback, read-only.</summary>
    public EmbeddedDashboard Dashboard { get; init; } = new();
}

/// <summary>The embedded silo's dashboard endpoint.</summary>
/// <param name="Port">0: a free one.</param>
/// <param name="Token">Every dashboard call needs it; null: reads are open and the page is read-only.</param>
/// <param name="PortOption">The option that chose <paramref name="Port"/>, named when it cannot be used.</param>
public sealed record EmbeddedDashboard(int Port = 0, string? Token = null, string PortOption = "--dashboard-port")
{
    public IPAddress Address { get; init; } = IPAddress.Loopback;
}
