namespace Orchestrator.Models.Pretrained;

/// <summary>What a pull did: the folder, its manifest, and whether it was converted now or already there and verified.</summary>
public sealed record PulledModel(PretrainedModel Model, string Folder, FolderManifest Manifest, bool Converted);

/// <summary>
/// <c>models pull</c>: converts a catalog model into <c>{cache}/models/{name}/</c> once. A second pull verifies every
/// file's sha256 against the manifest and does nothing more; concurrent pulls are serialised by <see cref="CacheEntry"/>.
/// </summary>
public static class ModelPuller
{
    public static string FolderOf(PretrainedModel model, string? cacheRoot = null) =>
        Path.Combine(CacheFolder.Models(cacheRoot), model.Name);

    public static PulledModel Pull(PretrainedModel model, string? cacheRoot = null, string? packageDirectory = null, CancellationToken cancellationToken = default)
    {
        var folder = FolderOf(model, cacheRoot);
        var (manifest, built) = CacheEntry.GetOrBuild(folder, temp => Convert(model, temp, packageDirectory), cancellationToken);
        return new PulledModel(model, folder, manifest, built);
    }

    /// <summary>Converts the package's ONNX export into a Hugging Face folder at <paramref name="folder"/>; returns the manifest's source entries.</summary>
    public static IReadOnlyDictionary<string, string> Convert(PretrainedModel model, string folder, string? packageDirectory = null)
    {
        var (onnx, vocab) = PackageResources.Read(model, packageDirectory);
        BertFolder.Write(folder, model, onnx, vocab);
        return new Dictionary<string, string>
        {
            ["package"] = $"{model.PackageId} {model.PackageVersion}",
            ["model.onnx sha256"] = FolderManifest.Sha256Of(onnx),
            ["vocab.txt sha256 (as embedded)"] = FolderManifest.Sha256Of(vocab),
            ["upstream"] = model.Upstream,
            ["license"] = model.UpstreamLicense,
        };
    }

    /// <summary>The catalog with, for each model, its folder when a verified one is in the cache.</summary>
    public static IReadOnlyList<(PretrainedModel Model, string Folder, bool Pulled)> List(string? cacheRoot = null) =>
        PretrainedModels.All.Select(m =>
        {
            var folder = FolderOf(m, cacheRoot);
            return (m, folder, FolderManifest.TryVerify(folder, out _));
        }).ToList();
}
