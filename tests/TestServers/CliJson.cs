using System.Text.Json;

namespace Orchestrator.TestServers;

/// <summary>The CLI's <c>--json</c> output as the fault, security and container tests read it.</summary>
public static class CliJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static T Parse<T>(string json) => JsonSerializer.Deserialize<T>(json, Options)
        ?? throw new InvalidOperationException($"not JSON: {json}");
}

/// <summary>One row of <c>trials --json</c>.</summary>
public sealed record TrialRow(string TrialId, string Kind, string State, int Attempts, string? Worker, long Step, long TotalSteps, string? Error)
{
    /// <summary>The pack of its current (or last) attempt; null when it trained alone.</summary>
    public string? Pack { get; init; }

    public bool Is(string state) => State.Equals(state, StringComparison.OrdinalIgnoreCase);

    public bool IsTerminal => !Is("queued") && !Is("running");

    public override string ToString() => $"{TrialId} {State} attempt {Attempts} step {Step}/{TotalSteps} on {Worker ?? "-"}{(Error is null ? "" : " error: " + Error)}";
}

/// <summary>One element of <c>status SWEEP --json</c>.</summary>
public sealed record SweepStatusRow(string Name, string State, int Total, int Queued, int Running, int Succeeded, int Failed, int Pruned);

/// <summary>One row of <c>leaderboard SWEEP --format json</c>.</summary>
public sealed record LeaderboardRow(string TrialId, string Sweep, bool Pruned);
