namespace Orchestrator.Trainer.Training;

/// <summary>A checkpoint whose files are missing or do not match the checksums in its `checkpoint.json`.</summary>
public sealed class CheckpointCorruptException(string directory, string problem)
    : Exception($"checkpoint {directory} is corrupt: {problem}")
{
    public string Directory { get; } = directory;
}
