namespace Orchestrator.Trainer.Data.Classification;

/// <summary>A row of a text-classification file that cannot be read. The message starts with <c>file:line:</c>.</summary>
public sealed class TextClassificationFormatException(string path, int line, string problem)
    : FormatException($"{path}:{line}: {problem}")
{
    public string FilePath { get; } = path;
    public int Line { get; } = line;
    public string Problem { get; } = problem;
}
