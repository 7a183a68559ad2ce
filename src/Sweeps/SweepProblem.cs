namespace Orchestrator.Sweeps;

/// <summary>One thing wrong with a sweep file, at a 1-based line and column.</summary>
public sealed record SweepProblem(string File, int Line, int Column, string Message)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

/// <summary>Every problem found in a sweep file at once. The message lists them one per line.</summary>
public sealed class SweepValidationException(IReadOnlyList<SweepProblem> problems)
    : Exception(string.Join("\n", problems))
{
    public IReadOnlyList<SweepProblem> Problems { get; } = problems;
}
