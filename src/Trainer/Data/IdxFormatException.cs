namespace Orchestrator.Trainer.Data;

/// <summary>An IDX file that is truncated, garbled or of a kind this loader does not read. The message names the file.</summary>
public sealed class IdxFormatException(string path, string problem)
    : Exception($"{path}: {problem}")
{
    public string FilePath { get; } = path;
    public string Problem { get; } = problem;
}
