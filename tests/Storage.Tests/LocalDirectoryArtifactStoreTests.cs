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

    [Fact]
    public async Task Over_300_rounds_of_16_threads_racing_TryCreate_each_name_has_exactly_one_winner_whose_bytes_stay()
    {
        // The regression this guards: File.Exists + File.Move(overwrite: false) let two writers both "win" now and then.
        for (var round = 0; round < 300; round++)
        {
            var path = $"sweeps/s/trials/t{round}/result.json";
            using var start = new Barrier(16);
            // Dedicated threads released together by a barrier: real parallelism, not a thread pool growing slowly.
            var racers = Enumerable.Range(0, 16).Select(i => Task.Factory.StartNew(async () =>
            {
                start.SignalAndWait();
                return (Writer: i, Won: await Store.TryCreateTextAsync(path, $"writer {i} of round {round}", default));
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()).ToList();
            var results = await Task.WhenAll(racers);

            var winner = Assert.Single(results, r => r.Won);
            Assert.Equal($"writer {winner.Writer} of round {round}", await Store.ReadTextAsync(path, default));
        }

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, LocalDirectoryArtifactStore.StagingFolder)));
    }
}
