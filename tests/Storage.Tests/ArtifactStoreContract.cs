using System.Security.Cryptography;
using System.Text;

namespace Orchestrator.Storage.Tests;

/// <summary>What every <see cref="IArtifactStore"/> must do; run once per store by the classes deriving from it.</summary>
public abstract class ArtifactStoreContract : IAsyncLifetime
{
    private readonly List<string> _tempDirs = [];

    protected IArtifactStore Store { get; private set; } = null!;

    protected abstract Task<IArtifactStore> CreateStoreAsync();

    /// <summary>Replaces the stored bytes behind the store's back, keeping whatever checksum it recorded.</summary>
    protected abstract Task TamperAsync(string path, byte[] content);

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual Task DisposeAsync()
    {
        foreach (var dir in _tempDirs)
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }

        return Task.CompletedTask;
    }

    protected string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"storage-tests-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        _tempDirs.Add(dir);
        return dir;
    }

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Written_content_reads_back_and_the_write_returns_its_sha256()
    {
        var content = RandomNumberGenerator.GetBytes(200_000);
        var sha = await Store.WriteAsync("sweeps/s/trials/t/adapter/adapter_model.safetensors", new MemoryStream(content), default);

        Assert.Equal(Sha(content), sha);
        await using var read = await Store.OpenReadAsync("sweeps/s/trials/t/adapter/adapter_model.safetensors", sha, default);
        var copy = new MemoryStream();
        await read.CopyToAsync(copy);
        Assert.Equal(content, copy.ToArray());
    }

    [Fact]
    public async Task A_second_write_to_the_same_path_replaces_the_first()
    {
        await Store.WriteTextAsync("sweeps/s/manifest.json", "one", default);
        var sha = await Store.WriteTextAsync("sweeps/s/manifest.json", "two", default);

        Assert.Equal("two", await Store.ReadTextAsync("sweeps/s/manifest.json", sha, default));
        Assert.Equal("two", await Store.ReadTextAsync("sweeps/s/manifest.json", default));
    }

    [Fact]
    public async Task Reading_with_a_wrong_expected_sha256_throws_ArtifactCorruptException()
    {
        await Store.WriteTextAsync("a/b.json", "{}", default);

        var e = await Assert.ThrowsAsync<ArtifactCorruptException>(() => Store.OpenReadAsync("a/b.json", Sha(Bytes("other")), default));
        Assert.Equal(Sha(Bytes("{}")), e.ActualSha256);
    }

    [Fact]
    public async Task Content_changed_behind_the_stores_back_is_detected_as_corrupt_on_read()
    {
        var sha = await Store.WriteTextAsync("sweeps/s/trials/t/result.json", "{\"accuracy\":0.9}", default);
        await TamperAsync("sweeps/s/trials/t/result.json", Bytes("{\"accuracy\":1.0}"));

        var e = await Assert.ThrowsAsync<ArtifactCorruptException>(() => Store.OpenReadAsync("sweeps/s/trials/t/result.json", sha, default));
        Assert.Equal(sha, e.ExpectedSha256);
    }

    [Fact]
    public async Task A_missing_artifact_does_not_exist_cannot_be_read_and_deletes_quietly()
    {
        Assert.False(await Store.ExistsAsync("nothing/here.json", default));
        await Assert.ThrowsAsync<ArtifactNotFoundException>(() => Store.OpenReadAsync("nothing/here.json", null, default));
        await Store.DeleteAsync("nothing/here.json", default);

        await Store.WriteTextAsync("nothing/here.json", "x", default);
        Assert.True(await Store.ExistsAsync("nothing/here.json", default));
        await Store.DeleteAsync("nothing/here.json", default);
        Assert.False(await Store.ExistsAsync("nothing/here.json", default));
    }

    [Fact]
    public async Task Of_20_concurrent_TryCreate_calls_exactly_one_wins_and_its_content_stays()
    {
        var start = new TaskCompletionSource();
        var writers = Enumerable.Range(0, 20).Select(async i =>
        {
            await start.Task;
            return (Writer: i, Won: await Store.TryCreateTextAsync("sweeps/s/trials/t/result.json", $"writer {i}", default));
        }).ToList();
        start.SetResult();
        var results = await Task.WhenAll(writers);

        var winner = Assert.Single(results, r => r.Won);
        Assert.Equal($"writer {winner.Writer}", await Store.ReadTextAsync("sweeps/s/trials/t/result.json", default));
        Assert.False(await Store.TryCreateTextAsync("sweeps/s/trials/t/result.json", "late", default));
    }

    [Fact]
    public async Task Listing_a_prefix_returns_only_the_objects_under_it_in_path_order_with_their_sizes()
    {
        await Store.WriteTextAsync("sweeps/b/spec.yaml", "bb", default);
        await Store.WriteTextAsync("sweeps/a/trials/t2/result.json", "22", default);
        await Store.WriteTextAsync("sweeps/a/trials/t1/result.json", "1", default);
        await Store.WriteTextAsync("sweeps/a/spec.yaml", "aaa", default);
        await Store.WriteTextAsync("sweeps/ab/spec.yaml", "x", default);

        var underA = await Store.ListAsync("sweeps/a/", default).ToListAsync();
        Assert.Equal(["sweeps/a/spec.yaml", "sweeps/a/trials/t1/result.json", "sweeps/a/trials/t2/result.json"], underA.Select(i => i.Path));
        Assert.Equal([3L, 1L, 2L], underA.Select(i => i.Size));
        Assert.All(underA, i => Assert.True(i.Sha256 is null || i.Sha256.Length == 64));

        var partial = await Store.ListAsync("sweeps/a", default).Select(i => i.Path).ToListAsync();
        Assert.Contains("sweeps/ab/spec.yaml", partial);
        Assert.Equal(5, await Store.ListAsync("", default).CountAsync());
        Assert.Empty(await Store.ListAsync("nothing/", default).ToListAsync());
    }

    [Fact]
    public async Task A_folder_uploads_with_its_checksums_and_downloads_to_the_same_files()
    {
        var source = TempDir();
        Directory.CreateDirectory(Path.Combine(source, "nested", "deeper"));
        var files = new Dictionary<string, byte[]>
        {
            ["adapter_config.json"] = Bytes("{\"peft_type\":\"LORA\"}"),
            ["adapter_model.safetensors"] = RandomNumberGenerator.GetBytes(50_000),
            ["nested/deeper/step-100.bin"] = RandomNumberGenerator.GetBytes(1000),
        };
        foreach (var (relative, bytes) in files)
        {
            await File.WriteAllBytesAsync(Path.Combine(source, relative), bytes);
        }

        var written = await Store.UploadDirectoryAsync(source, "sweeps/s/trials/t/adapter", default);

        Assert.Equal(files.ToDictionary(f => "sweeps/s/trials/t/adapter/" + f.Key, f => Sha(f.Value)), written);
        var target = TempDir();
        await Store.DownloadDirectoryAsync("sweeps/s/trials/t/adapter/", target, default);
        foreach (var (relative, bytes) in files)
        {
            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(target, relative)));
        }

        Assert.Equal(files.Count, Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories).Count());
    }

    public static TheoryData<string> EscapingPaths => new()
    {
        "../x", "/etc/passwd", "a/../../b", "a/./b", "a\0b", "a\\..\\b", "a//b", "", "..", "c:/windows", "a/\n/b",
    };

    [Theory]
    [MemberData(nameof(EscapingPaths))]
    public async Task Every_operation_rejects_a_path_that_could_escape_the_store(string path)
    {
        await Assert.ThrowsAsync<InvalidArtifactNameException>(() => Store.WriteTextAsync(path, "x", default));
        await Assert.ThrowsAsync<InvalidArtifactNameException>(() => Store.TryCreateTextAsync(path, "x", default));
        await Assert.ThrowsAsync<InvalidArtifactNameException>(() => Store.OpenReadAsync(path, null, default));
        await Assert.ThrowsAsync<InvalidArtifactNameException>(() => Store.ExistsAsync(path, default));
        await Assert.ThrowsAsync<InvalidArtifactNameException>(() => Store.DeleteAsync(path, default));
        if (path.Length > 0)
        {
            await Assert.ThrowsAsync<InvalidArtifactNameException>(async () => await Store.ListAsync(path, default).ToListAsync());
            await Assert.ThrowsAsync<InvalidArtifactNameException>(() => Store.UploadDirectoryAsync(TempDir(), path, default));
            await Assert.ThrowsAsync<InvalidArtifactNameException>(() => Store.DownloadDirectoryAsync(path, TempDir(), default));
        }
    }
}
