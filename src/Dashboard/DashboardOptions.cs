namespace Orchestrator.Dashboard;

/// <summary>How a process serves the dashboard.</summary>
public sealed record DashboardOptions
{
    /// <summary>Environment variable that carries the token (the silo's `--dashboard-token`).</summary>
    public const string TokenVariable = Orchestrator.Contracts.Hosting.EnvironmentVariables.DashboardToken;

    /// <summary>Bearer token that every API call requires (reads, downloads, events, pause/resume/cancel); null: reads are open and the dashboard is read-only.</summary>
    public string? Token { get; init; }

    /// <summary>The pages and the chart library, copied next to the assembly at build time.</summary>
    public string AssetsDirectory { get; init; } = Path.Combine(AppContext.BaseDirectory, "dashboard");

    /// <summary>How often a watched sweep is asked for its changes (one call per sweep per process, whatever the number of browsers).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);
}
