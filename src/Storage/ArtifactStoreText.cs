using System.Text;

namespace Orchestrator.Storage;

/// <summary>Text (UTF-8, no BOM) on top of <see cref="IArtifactStore"/>: specs, manifests, result.json.</summary>
public static class ArtifactStoreText
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static async Task<string> WriteTextAsync(this IArtifactStore store, string path, string text, CancellationToken ct)
    {
        using var content = new MemoryStream(Utf8.GetBytes(text), writable: false);
        return await store.WriteAsync(path, content, ct);
    }

    public static async Task<bool> TryCreateTextAsync(this IArtifactStore store, string path, string text, CancellationToken ct)
    {
        using var content = new MemoryStream(Utf8.GetBytes(text), writable: false);
        return await store.TryCreateAsync(path, content, ct);
    }

    public static async Task<string> ReadTextAsync(this IArtifactStore store, string path, CancellationToken ct) =>
        await store.ReadTextAsync(path, expectedSha256: null, ct);

    public static async Task<string> ReadTextAsync(this IArtifactStore store, string path, string? expectedSha256, CancellationToken ct)
    {
        await using var stream = await store.OpenReadAsync(path, expectedSha256, ct);
        using var reader = new StreamReader(stream, Utf8);
        return await reader.ReadToEndAsync(ct);
    }
}
