namespace Orchestrator.Trials.Data;

/// <summary>The datasets that ship with the trainer, by the names a sweep gives them (`dataset: mnist`).</summary>
public static class BuiltInDatasets
{
    public const string Mnist = "mnist";
    public const string SyntheticRegression = "synthetic-regression";
    public const string Text = "text";

    public static readonly IReadOnlyList<string> Names = [Mnist, SyntheticRegression, Text];
}
