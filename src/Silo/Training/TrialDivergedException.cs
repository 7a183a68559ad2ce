namespace Orchestrator.Silo.Training;

/// <summary>The training loss became NaN or infinite: the trial fails at once (a seeded rerun diverges again).</summary>
public sealed class TrialDivergedException(string message) : Exception(message);
