namespace Orchestrator.Trainer.Tests.Models.Decoders;

/// <summary>One random folder per family from the PyTorch reference, written once for a test class (the script takes a second or two).</summary>
public sealed class DecoderFolders : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "decoder-folders", Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string> _folders = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>The folder of <paramref name="family"/> (config.json, weights, adapter/, reference.safetensors).</summary>
    public string Of(string family)
    {
        lock (_lock)
        {
            if (_folders.TryGetValue(family, out var folder)) return folder;
            folder = Path.Combine(_root, family);
            DecoderReference.Write(family, folder);
            return _folders[family] = folder;
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>The test classes that share one set of reference folders (written once per test run).</summary>
[CollectionDefinition(Name)]
public sealed class DecoderFoldersCollection : ICollectionFixture<DecoderFolders>
{
    public const string Name = "decoder reference folders";
}
