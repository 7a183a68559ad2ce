namespace Orchestrator.Contracts.Hosting;

/// <summary>The ports a silo listens on. The Kubernetes manifests and Dockerfiles use the same numbers.</summary>
public static class SiloEndpoints
{
    public const int SiloPort = 11111;
    public const int GatewayPort = 30000;
    public const int HttpPort = 8080;

    public const string LivePath = "/health/live";
    public const string ReadyPath = "/health/ready";
    public const string StartupPath = "/health/startup";
    public const string MetricsPath = "/metrics";
    /// <summary>The Orleans statistics dashboard (`silo --dashboard`), behind the dashboard token when one is set.</summary>
    public const string OrleansDashboardPath = "/dashboard";
}
