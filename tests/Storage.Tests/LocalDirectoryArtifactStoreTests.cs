namespace Orchestrator.Storage.Tests;

public sealed class LocalDirectoryArtifactStoreTests : ArtifactStoreContract
{
    private string _root = null!;

    protected override Task<IArtifactStore> CreateStoreAsync()
    {
        _root = TempDir();
        return Task.FromResult<IArtifactStore>(new LocalDirectoryArtifactStore(_root));
    }

    protected override Task TamperAsync(string path, byte[] content) => File.WriteAllBytesAsync(Path.Combine(_root, path), content);

    [Fact]
    public async Task Writes_in_progress_are_staged_out_of_sight_and_nothing_is_left_behind()
    {
        await Store.WriteTextAsync("a.json", "x", default);
        await Store.TryCreateTextAsync("a.json", "y", default);

        Assert.Equal(["a.json"], await Store.ListAsync("", default).Select(i => i.Path).ToListAsync());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, LocalDirectoryArtifactStore.StagingFolder)));
        await Assert.ThrowsAsync<InvalidArtifactNameException>(() => Store.WriteTextAsync(".staging/a", "x", default));
    }
}
