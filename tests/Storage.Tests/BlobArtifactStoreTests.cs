using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Orchestrator.TestServers;

namespace Orchestrator.Storage.Tests;

/// <summary>One Azurite for the Blob contract tests, on a free port, stopped when they are done.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public AzuriteServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await AzuriteServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class BlobArtifactStoreTests(AzuriteFixture azurite) : ArtifactStoreContract, IClassFixture<AzuriteFixture>
{
    private readonly string _container = $"test-{Guid.NewGuid():N}";

    protected override Task<IArtifactStore> CreateStoreAsync() =>
        Task.FromResult<IArtifactStore>(new BlobArtifactStore(azurite.Server.ConnectionString, _container));

    protected override async Task TamperAsync(string path, byte[] content)
    {
        var blob = new BlobContainerClient(azurite.Server.ConnectionString, _container).GetBlobClient(path);
        var metadata = (await blob.GetPropertiesAsync()).Value.Metadata;
        await blob.UploadAsync(new BinaryData(content), new BlobUploadOptions { Metadata = metadata });
    }

    [Fact]
    public async Task Each_blob_carries_its_sha256_in_metadata_and_a_read_without_an_expected_sha_still_verifies_it()
    {
        var sha = await Store.WriteTextAsync("sweeps/s/spec.yaml", "name: s", default);
        var listed = Assert.Single(await Store.ListAsync("sweeps/", default).ToListAsync());
        Assert.Equal(sha, listed.Sha256);

        await TamperAsync("sweeps/s/spec.yaml", "name: evil"u8.ToArray());
        await Assert.ThrowsAsync<ArtifactCorruptException>(() => Store.ReadTextAsync("sweeps/s/spec.yaml", default));
    }
}
