namespace Orchestrator.Trials.Configuration;

/// <summary>
/// A <see cref="TrainingConfig"/> breaks a rule of <see cref="TrainingOptions"/>. An <see cref="ArgumentException"/>:
/// the same config fails the same way on every attempt, so retrying it is pointless.
/// </summary>
public sealed class InvalidTrainingConfigException : ArgumentException
{
    public InvalidTrainingConfigException(IReadOnlyList<TrainingConfigProblem> problems)
        : base("invalid training config: " + string.Join("; ", problems.Select(p => p.Message)))
    {
        Problems = problems;
    }

    public IReadOnlyList<TrainingConfigProblem> Problems { get; }
}

/// <summary>One broken rule: the option's key (as in sweep files and result.json) and what is wrong.</summary>
public sealed record TrainingConfigProblem(string Key, string Message)
{
    public override string ToString() => Message;
}
