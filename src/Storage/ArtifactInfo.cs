namespace Orchestrator.Storage;

/// <summary>
/// One stored object. <see cref="Sha256"/> is what the store recorded at write time (Blob metadata); null where the
/// store does not record one (the local directory store hashes on read instead).
/// </summary>
public sealed record ArtifactInfo(string Path, long Size, string? Sha256);
