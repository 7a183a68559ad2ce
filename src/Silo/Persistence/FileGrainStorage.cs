using System.Text.Json;
using Orleans.Runtime;
using Orleans.Storage;

namespace Orchestrator.Silo.Persistence;

/// <summary>
/// Embedded mode's grain storage: one JSON file per grain state, replaced atomically (write temp, rename).
/// ETags are the file's write counter, so a stale writer is rejected as Orleans expects.
/// </summary>
public sealed class FileGrainStorage(string root) : IGrainStorage
{
    private readonly string _root = Path.GetFullPath(root);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        if (!File.Exists(path)) { grainState.RecordExists = false; grainState.ETag = null; return; }
        await using var file = File.OpenRead(path);
        var envelope = await JsonSerializer.DeserializeAsync<Envelope<T>>(file, Json);
        grainState.State = envelope!.State!;
        grainState.ETag = envelope.Version.ToString();
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        var current = File.Exists(path) ? await CurrentVersionAsync<T>(path) : (long?)null;
        if (current?.ToString() != grainState.ETag && !(current is null && grainState.ETag is null))
            throw new InconsistentStateException($"stale write to {stateName} of {grainId}", current?.ToString() ?? "", grainState.ETag ?? "");
        var next = (current ?? 0) + 1;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(new Envelope<T>(next, grainState.State), Json));
        File.Move(temp, path, overwrite: true);
        grainState.ETag = next.ToString();
        grainState.RecordExists = true;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        File.Delete(PathOf(stateName, grainId));
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static async Task<long> CurrentVersionAsync<T>(string path)
    {
        await using var file = File.OpenRead(path);
        return (await JsonSerializer.DeserializeAsync<Envelope<T>>(file, Json))!.Version;
    }

    private string PathOf(string stateName, GrainId grainId)
    {
        var name = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes($"{stateName}/{grainId}")))[..32].ToLowerInvariant();
        return Path.Combine(_root, name + ".json");
    }

    private sealed record Envelope<T>(long Version, T? State);
}
