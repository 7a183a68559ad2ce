namespace Orchestrator.Storage;

/// <summary>
/// The one check every store applies to the paths it is given: relative, '/'-separated, no '.' or '..' segment, no
/// backslash, colon or control character. A path that passes can be joined to a root or prefix and stay under it.
/// </summary>
public static class ArtifactPath
{
    public const int MaxLength = 1024;

    /// <summary>Validates an object path (<c>sweeps/s/spec.yaml</c>): no empty segment, no trailing '/'.</summary>
    public static string Object(string path)
    {
        Check(path, allowTrailingSlash: false);
        if (path.Length == 0)
        {
            throw new InvalidArtifactNameException(path, "it is empty");
        }

        return path;
    }

    /// <summary>
    /// Validates a listing prefix. Empty means everything; otherwise a string prefix (<c>sweeps/s/tri</c> matches
    /// <c>sweeps/s/trials/...</c>) under the same rules as an object path.
    /// </summary>
    public static string Prefix(string prefix)
    {
        Check(prefix, allowTrailingSlash: true);
        return prefix;
    }

    /// <summary>Validates a folder prefix and ends it with '/', so <c>a/adapter</c> never matches <c>a/adapter2/x</c>.</summary>
    public static string Folder(string prefix)
    {
        Check(prefix, allowTrailingSlash: true);
        return prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/";
    }

    private static void Check(string path, bool allowTrailingSlash)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length > MaxLength)
        {
            throw new InvalidArtifactNameException(path[..64] + "...", $"it is longer than {MaxLength} characters");
        }

        foreach (var c in path)
        {
            if (char.IsControl(c))
            {
                throw new InvalidArtifactNameException(path, "it contains a control character");
            }

            if (c is '\\' or ':')
            {
                throw new InvalidArtifactNameException(path, $"it contains '{c}'");
            }
        }

        if (path.StartsWith('/'))
        {
            throw new InvalidArtifactNameException(path, "it is absolute; artifact paths are relative to the store");
        }

        var segments = path.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var last = i == segments.Length - 1;
            if (segment.Length == 0 && !(last && allowTrailingSlash))
            {
                throw new InvalidArtifactNameException(path, "it has an empty segment");
            }

            if (segment is "." or "..")
            {
                throw new InvalidArtifactNameException(path, $"it has a '{segment}' segment");
            }

            if (segment.Trim().Length != segment.Length)
            {
                throw new InvalidArtifactNameException(path, "a segment starts or ends with white space");
            }
        }
    }

    /// <summary>
    /// Joins a validated relative path to a local folder and checks that the result is still inside it. The second
    /// check is belt and braces: <see cref="Object"/> already rules out every way out.
    /// </summary>
    public static string UnderFolder(string folder, string relativePath)
    {
        var root = Path.GetFullPath(folder);
        var full = Path.GetFullPath(Path.Combine(root, relativePath));
        var rootWithSeparator = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        if (!full.StartsWith(rootWithSeparator, StringComparison.Ordinal))
        {
            throw new InvalidArtifactNameException(relativePath, $"it resolves outside '{root}'");
        }

        return full;
    }
}
