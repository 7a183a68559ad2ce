using System.Security.Cryptography;
using Orchestrator.Storage;

namespace Orchestrator.Dashboard.Api;

/// <summary>A stored file of a trial: its path below the trial's folder, size and sha256.</summary>
public sealed record TrialFile(string Path, long Size, string? Sha256);

/// <summary>A trial's files in the artifact store (result.json, adapter, checkpoints), with their sha256.</summary>
public static class TrialFiles
{
    private const int MaxFiles = 200;

    public static async Task<IReadOnlyList<TrialFile>> ListAsync(IArtifactStore store, string sweep, string trial, CancellationToken cancellationToken)
    {
        var prefix = ArtifactPaths.Trial(sweep, trial);
        var files = new List<TrialFile>();
        await foreach (var info in store.ListAsync(prefix, cancellationToken))
        {
            if (files.Count == MaxFiles) break;
            // The local store records no hash; it hashes on read like `adapter download` does.
            var sha = info.Sha256 ?? await HashAsync(store, info.Path, cancellationToken);
            files.Add(new TrialFile(info.Path[prefix.Length..], info.Size, sha));
        }
        return files;
    }

    private static async Task<string> HashAsync(IArtifactStore store, string path, CancellationToken cancellationToken)
    {
        await using var stream = await store.OpenReadAsync(path, null, cancellationToken);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }
}
