using System.CommandLine;
using Orchestrator.Contracts.Hosting;

namespace Orchestrator.Client.Connection;

/// <summary>Where a verb finds the cluster: `--cluster`, `--data-dir`, `--storage`, each falling back to its environment variable.</summary>
public static class ConnectionOptions
{
    public static readonly Option<string?> Cluster = new("--cluster")
    {
        Description = $"'localhost' (embedded, the default), 'redis://HOST:PORT' (a Redis-clustered deployment) or 'HOST:PORT' (a gateway, e.g. a port-forward). Env: {EnvironmentVariables.Cluster}.",
        Recursive = true,
    };

    public static readonly Option<string?> DataDir = new("--data-dir")
    {
        Description = $"Embedded state and artifacts (default ./.orchestrator). Env: {EnvironmentVariables.DataDir}.",
        Recursive = true,
    };

    public static readonly Option<string?> Storage = new("--storage")
    {
        Description = $"Artifacts of a cluster: a directory or an Azure Storage connection string. Env: {EnvironmentVariables.Storage}.",
        Recursive = true,
    };

    public static ClusterAddress Resolve(ParseResult parseResult)
    {
        string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        var cluster = parseResult.GetValue(Cluster) ?? Env(EnvironmentVariables.Cluster) ?? "localhost";
        var dataDir = parseResult.GetValue(DataDir) ?? Env(EnvironmentVariables.DataDir) ?? ".orchestrator";
        var storage = parseResult.GetValue(Storage) ?? Env(EnvironmentVariables.Storage);
        return ClusterAddress.Parse(cluster, dataDir, storage, Env(EnvironmentVariables.StorageContainer) ?? "artifacts",
            Env(EnvironmentVariables.ServiceId) ?? "lora-orchestrator", Env(EnvironmentVariables.ClusterId) ?? "default");
    }
}
