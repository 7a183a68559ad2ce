using System.Security.Cryptography;
using Orchestrator.Storage;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Silo.Training;

/// <summary>The sha256 of what a finished trial stored, as its completion carries them.</summary>
public sealed record StoredTrialFiles(string? ResultSha256, string? AdapterSha256);

/// <summary>
/// Stores what a finished attempt wrote into the artifact store (layout: <see cref="ArtifactPaths"/>): the PEFT
/// adapter, a fully fine-tuned model, and result.json, created once (a duplicate attempt's result is not written twice).
/// </summary>
public sealed class TrialArtifacts(IArtifactStore store)
{
    public async Task<StoredTrialFiles> UploadAsync(TrialLease lease, string outputDirectory, CancellationToken cancellationToken)
    {
        string? adapterSha = null;
        var adapterDir = Path.Combine(outputDirectory, TrialTrainer.AdapterFolder);
        if (Directory.Exists(adapterDir))
        {
            var files = await store.UploadDirectoryAsync(adapterDir, ArtifactPaths.TrialAdapter(lease.Sweep, lease.TrialId), cancellationToken);
            adapterSha = files.FirstOrDefault(f => f.Key.EndsWith(ArtifactPaths.AdapterWeightsFile, StringComparison.Ordinal)).Value;
        }
        var fullModel = Path.Combine(outputDirectory, TrialTrainer.FullModelFile);
        if (File.Exists(fullModel))
        {
            await using var model = File.OpenRead(fullModel);
            await store.WriteAsync(ArtifactPaths.Trial(lease.Sweep, lease.TrialId) + TrialTrainer.FullModelFile, model, cancellationToken);
        }
        string? resultSha = null;
        var resultFile = Path.Combine(outputDirectory, "result.json");
        if (File.Exists(resultFile))
        {
            // First writer wins: a duplicate attempt's identical result is not written twice.
            var bytes = await File.ReadAllBytesAsync(resultFile, cancellationToken);
            resultSha = Convert.ToHexStringLower(SHA256.HashData(bytes));
            await store.TryCreateAsync(ArtifactPaths.TrialResult(lease.Sweep, lease.TrialId), new MemoryStream(bytes), cancellationToken);
        }
        return new StoredTrialFiles(resultSha, adapterSha);
    }
}
