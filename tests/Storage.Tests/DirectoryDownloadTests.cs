using System.Runtime.CompilerServices;

namespace Orchestrator.Storage.Tests;

public sealed class DirectoryDownloadTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"download-tests-{Guid.NewGuid():N}");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("p/../../escaped.txt")]
    [InlineData("p//etc/passwd")]
    [InlineData("p/a\\..\\..\\escaped.txt")]
    public async Task A_hostile_name_in_a_listing_never_makes_a_download_write_outside_the_target_folder(string hostile)
    {
        var store = new HostileListing(new LocalDirectoryArtifactStore(Path.Combine(_root, "store")), hostile);
        var target = Path.Combine(_root, "out", "target");

        await Assert.ThrowsAsync<InvalidArtifactNameException>(() => store.DownloadDirectoryAsync("p/", target, default));
        Assert.Empty(Directory.EnumerateFiles(_root, "escaped.txt", SearchOption.AllDirectories));
    }

    /// <summary>A store whose listing returns a name no real store would accept, as a tampered container could.</summary>
    private sealed class HostileListing(IArtifactStore inner, string hostilePath) : IArtifactStore
    {
        public Task<string> WriteAsync(string path, Stream content, CancellationToken ct) => inner.WriteAsync(path, content, ct);
        public Task<bool> TryCreateAsync(string path, Stream content, CancellationToken ct) => inner.TryCreateAsync(path, content, ct);
        public Task<Stream> OpenReadAsync(string path, string? expectedSha256, CancellationToken ct) =>
            Task.FromResult<Stream>(new MemoryStream("escaped"u8.ToArray()));
        public Task<bool> ExistsAsync(string path, CancellationToken ct) => inner.ExistsAsync(path, ct);
        public Task DeleteAsync(string path, CancellationToken ct) => inner.DeleteAsync(path, ct);

        public async IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct)
        {
            await Task.Yield();
            yield return new ArtifactInfo(hostilePath, 7, null);
        }

        public Task<IReadOnlyDictionary<string, string>> UploadDirectoryAsync(string localDir, string prefix, CancellationToken ct) =>
            inner.UploadDirectoryAsync(localDir, prefix, ct);

        public Task DownloadDirectoryAsync(string prefix, string localDir, CancellationToken ct) =>
            DirectoryTransfer.DownloadAsync(this, prefix, localDir, ct);
    }
}
