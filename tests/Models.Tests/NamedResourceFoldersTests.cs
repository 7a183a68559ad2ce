using Orchestrator.Models.Pretrained;
using Orchestrator.Models.Sharing;
using Orchestrator.Storage;
using Orchestrator.Trainer.Models.HuggingFace;
using Orchestrator.Trials.Models.Named;

namespace Orchestrator.Models.Tests;

/// <summary>
/// Named models through a shared store (a local-directory store, the same contract as Blob): the first machine
/// converts and publishes, the next fetches what was published instead of converting, and a tampered store is refused.
/// </summary>
public sealed class NamedResourceFoldersTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"named-resources-{Guid.NewGuid():N}");

    private string Dir(string name) => Path.Combine(_root, name);

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task The_first_silo_converts_and_publishes_the_next_fetches_the_published_folder_instead_of_converting()
    {
        var store = new LocalDirectoryArtifactStore(Dir("store"));
        var first = new NamedResourceFolders(store, Dir("cache-1")).ModelFolder(NamedEncoders.MiniLmL6, CancellationToken.None);
        var prefix = ArtifactPaths.PulledModel("minilm-l6", PretrainedModels.PackageVersion);
        Assert.True(await store.ExistsAsync(prefix + FolderManifest.FileName, CancellationToken.None));

        // What the next silo gets is what the store holds: mark the published manifest's source and see it arrive.
        var published = Path.Combine(Dir("store"), prefix.TrimEnd('/'));
        File.WriteAllText(Path.Combine(published, FolderManifest.FileName),
            File.ReadAllText(Path.Combine(published, FolderManifest.FileName)).Replace("\"package\":", "\"published by\": \"silo-1\",\n    \"package\":"));
        var second = new NamedResourceFolders(store, Dir("cache-2")).ModelFolder(NamedEncoders.MiniLmL6, CancellationToken.None);

        Assert.NotEqual(first, second);
        Assert.Equal("silo-1", FolderManifest.Read(second).Source["published by"]);
        Assert.Equal(FolderManifest.Read(first).Files, FolderManifest.Read(second).Files);
    }

    [Fact]
    public void A_published_folder_whose_file_does_not_match_its_manifest_is_refused()
    {
        var store = new LocalDirectoryArtifactStore(Dir("store"));
        new NamedResourceFolders(store, Dir("cache-1")).ModelFolder(NamedEncoders.MiniLmL6, CancellationToken.None);
        var published = Path.Combine(Dir("store"), ArtifactPaths.PulledModel("minilm-l6", PretrainedModels.PackageVersion).TrimEnd('/'));
        File.AppendAllText(Path.Combine(published, "vocab.txt"), "tampered\n");

        var e = Assert.ThrowsAny<Exception>(() => new NamedResourceFolders(store, Dir("cache-2")).ModelFolder(NamedEncoders.MiniLmL6, CancellationToken.None));
        Assert.True(e is InvalidDataException or ArtifactCorruptException, e.ToString());
        Assert.False(File.Exists(Path.Combine(Dir("cache-2"), "models", "minilm-l6", FolderManifest.FileName)));
    }

    [Fact]
    public void The_converted_config_is_the_shape_the_trainer_knows_by_name()
    {
        var folder = new NamedResourceFolders(cacheRoot: Dir("cache")).ModelFolder(NamedEncoders.MiniLmL6, CancellationToken.None);
        var converted = EncoderConfig.Load(Path.Combine(folder, EncoderConfig.FileName));
        var known = NamedEncoders.MiniLmL6.Config;
        Assert.Equal((known.Family, known.VocabSize, known.HiddenSize, known.NumHiddenLayers, known.NumAttentionHeads, known.IntermediateSize,
                known.MaxPositionEmbeddings, known.TypeVocabSize, known.HiddenAct),
            (converted.Family, converted.VocabSize, converted.HiddenSize, converted.NumHiddenLayers, converted.NumAttentionHeads, converted.IntermediateSize,
                converted.MaxPositionEmbeddings, converted.TypeVocabSize, converted.HiddenAct));
    }
}
