using System.CommandLine;
using Orchestrator.Client.Commands;
using Orchestrator.Contracts.Hosting;
using Orchestrator.Silo.Security;

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

    public static readonly Option<string?> TlsCertificate = new(TlsFiles.CertificateOption)
    {
        Description = $"This client's (or silo's) certificate, PEM or .pfx: turns on mutual TLS with a cluster. Env: {EnvironmentVariables.TlsCertificate}.",
        Recursive = true,
    };

    public static readonly Option<string?> TlsKey = new(TlsFiles.KeyOption)
    {
        Description = $"The certificate's private key (PEM). Env: {EnvironmentVariables.TlsKey}.",
        Recursive = true,
    };

    public static readonly Option<string?> TlsAuthority = new(TlsFiles.AuthorityOption)
    {
        Description = $"The cluster's CA certificate (PEM): only peers it issued are trusted. Env: {EnvironmentVariables.TlsAuthority}.",
        Recursive = true,
    };

    public static readonly Option<string?> RevokedSerials = new(Silo.Security.RevokedSerials.Option)
    {
        Description = $"A file of revoked certificate serial numbers (hex, one a line): peers presenting one are refused although the CA signed them (read at start). Env: {EnvironmentVariables.RevokedSerials}.",
        Recursive = true,
    };

    /// <summary>The options the root command declares for every verb.</summary>
    public static IEnumerable<Option> All => [Cluster, DataDir, Storage, TlsCertificate, TlsKey, TlsAuthority, RevokedSerials];

    /// <summary>The TLS files of the command line, each falling back to its environment variable; null when TLS is off.</summary>
    public static TlsFiles? ResolveTls(ParseResult parseResult)
    {
        string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        try
        {
            return TlsFiles.From(
                parseResult.GetValue(TlsCertificate) ?? Env(EnvironmentVariables.TlsCertificate),
                parseResult.GetValue(TlsKey) ?? Env(EnvironmentVariables.TlsKey),
                parseResult.GetValue(TlsAuthority) ?? Env(EnvironmentVariables.TlsAuthority),
                parseResult.GetValue(RevokedSerials) ?? Env(EnvironmentVariables.RevokedSerials));
        }
        catch (CertificateFileException e)
        {
            throw new UserInputException(e.Message, ExitCodes.UsageError);
        }
    }

    public static ClusterAddress Resolve(ParseResult parseResult)
    {
        string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        var cluster = parseResult.GetValue(Cluster) ?? Env(EnvironmentVariables.Cluster) ?? "localhost";
        var dataDir = parseResult.GetValue(DataDir) ?? Env(EnvironmentVariables.DataDir) ?? ".orchestrator";
        var storage = parseResult.GetValue(Storage) ?? Env(EnvironmentVariables.Storage);
        return ClusterAddress.Parse(cluster, dataDir, storage, Env(EnvironmentVariables.StorageContainer) ?? "artifacts",
            Env(EnvironmentVariables.ServiceId) ?? "lora-orchestrator", Env(EnvironmentVariables.ClusterId) ?? "default") with
        {
            Tls = ResolveTls(parseResult),
            RedisPassword = Env(EnvironmentVariables.RedisPassword),
        };
    }
}
