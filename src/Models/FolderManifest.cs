using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Models;

/// <summary>
/// <c>manifest.json</c> of a cache folder: the sha256 of every other file in it and where the contents came from.
/// A folder is complete exactly when its manifest is present and every listed file has its recorded hash.
/// </summary>
public sealed record FolderManifest(
    [property: JsonPropertyName("files")] IReadOnlyDictionary<string, string> Files,
    [property: JsonPropertyName("source")] IReadOnlyDictionary<string, string> Source)
{
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>Hashes every file under <paramref name="folder"/> (sorted, '/'-separated relative paths) and writes the manifest.</summary>
    public static FolderManifest Write(string folder, IReadOnlyDictionary<string, string> source)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(folder, path).Replace(Path.DirectorySeparatorChar, '/');
            if (relative == FileName) continue;
            files[relative] = Sha256Of(path);
        }
        var manifest = new FolderManifest(files, new SortedDictionary<string, string>(source.ToDictionary(), StringComparer.Ordinal));
        File.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(manifest, JsonOptions) + "\n");
        return manifest;
    }

    public static FolderManifest Read(string folder) =>
        JsonSerializer.Deserialize<FolderManifest>(File.ReadAllText(Path.Combine(folder, FileName)))
        ?? throw new InvalidDataException($"{Path.Combine(folder, FileName)} is empty");

    /// <summary>True when the folder has a manifest and every file it lists is present with the recorded sha256.</summary>
    public static bool TryVerify(string folder, out FolderManifest? manifest)
    {
        manifest = null;
        if (!File.Exists(Path.Combine(folder, FileName))) return false;
        FolderManifest read;
        try
        {
            read = Read(folder);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException)
        {
            return false;
        }
        if (read.Files is null || read.Files.Count == 0) return false;
        foreach (var (relative, sha256) in read.Files)
        {
            var path = Path.Combine(folder, relative);
            if (!File.Exists(path) || !string.Equals(Sha256Of(path), sha256, StringComparison.Ordinal)) return false;
        }
        manifest = read;
        return true;
    }

    public static string Sha256Of(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static string Sha256Of(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
