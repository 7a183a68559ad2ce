using System.Text.Json;

namespace Orchestrator.Client.Connection;

/// <summary>
/// `gateway.json` in an embedded data directory: what the process hosting its silo publishes for the others: the
/// gateway they connect to, the trainer slots a sweep submitted there gets, and the dashboard that serves it.
/// </summary>
/// <param name="Owner">The hosting verb (`run`, `dashboard`, `status`, ...); null in a file written before it was published.</param>
/// <param name="DashboardUrl">`http://127.0.0.1:PORT/` (ends in '/'); null in a file written before it was published.</param>
public sealed record EmbeddedGateway(int GatewayPort, int ProcessId, int Slots = 0, string? DashboardUrl = null, string? Owner = null)
{
    public const string FileName = "gateway.json";

    /// <summary>"`dashboard` (pid 1234)", or "another process" for a holder that did not say what it is.</summary>
    public string Describe() => Owner is null ? $"another process (pid {ProcessId})" : $"`{Owner}` (pid {ProcessId})";

    public Task WriteAsync(string path, CancellationToken cancellationToken) =>
        File.WriteAllTextAsync(path, JsonSerializer.Serialize(this), cancellationToken);

    /// <summary>
    /// The gateway of the process holding the lock, or null while there is none to use: the holder writes gateway.json
    /// only once its silo has started, and a holder killed with -9 leaves a stale one behind (the caller then tries the
    /// lock again). Found by tests/Reliability.Tests: `trials` polled while `run` was starting.
    /// </summary>
    public static async Task<EmbeddedGateway?> TryReadAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return JsonSerializer.Deserialize<EmbeddedGateway>(await File.ReadAllTextAsync(path, cancellationToken)) is { } gateway && IsAlive(gateway.ProcessId)
                ? gateway
                : null;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }

        static bool IsAlive(int pid)
        {
            try { using var process = System.Diagnostics.Process.GetProcessById(pid); return !process.HasExited; }
            catch (ArgumentException) { return false; }
        }
    }
}
