namespace Orchestrator.Silo.Training;

/// <summary>The training loss became NaN or infinite: the attempt fails (and is retried up to max_failures).</summary>
public sealed class TrialDivergedException(string message) : Exception(message);
