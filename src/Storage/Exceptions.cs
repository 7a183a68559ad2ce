namespace Orchestrator.Storage;

/// <summary>A name or path that is not allowed: it would escape its prefix, or holds characters no store accepts.</summary>
public sealed class InvalidArtifactNameException(string name, string reason)
    : ArgumentException($"'{Printable(name)}' is not a valid artifact name: {reason}.")
{
    public string Name { get; } = name;

    public string Reason { get; } = reason;

    // Control characters (NUL included) are shown escaped so the message itself is safe to print.
    private static string Printable(string name) =>
        string.Concat(name.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}

/// <summary>The stored bytes do not hash to the sha256 they were written with.</summary>
public sealed class ArtifactCorruptException(string path, string expectedSha256, string actualSha256)
    : Exception($"Artifact '{path}' is corrupt: expected sha256 {expectedSha256}, found {actualSha256}.")
{
    public string Path { get; } = path;

    public string ExpectedSha256 { get; } = expectedSha256;

    public string ActualSha256 { get; } = actualSha256;
}

/// <summary>No artifact at this path.</summary>
public sealed class ArtifactNotFoundException(string path, Exception? inner = null)
    : FileNotFoundException($"Artifact '{path}' does not exist.", path, inner)
{
    public string Path { get; } = path;
}
