using System.Security.Cryptography;

namespace Orchestrator.Trials.Hashing;

/// <summary>Lower-case hex sha256 of files and bytes: the checksums in checkpoint.json and result.json.</summary>
public static class FileHashes
{
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Every file under <paramref name="root"/>, keyed by its path relative to the root with `/` separators.</summary>
    public static SortedDictionary<string, string> Tree(string root)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            result[Path.GetRelativePath(root, file).Replace('\\', '/')] = Sha256(file);
        return result;
    }
}
