namespace Orchestrator.Grains;

/// <summary>Names of the grain storage providers the silo registers (Redis in a cluster, files when embedded).</summary>
public static class StorageNames
{
    public const string Orchestrator = "orchestrator";
}
