namespace Orchestrator.Trainer.Safetensors;

/// <summary>A file that is not a well-formed safetensors file; the message names the file and the problem.</summary>
public sealed class SafetensorsFormatException : Exception
{
    public SafetensorsFormatException(string path, string problem)
        : base($"'{path}' is not a valid safetensors file: {problem}")
    {
        FilePath = path;
        Problem = problem;
    }

    public string FilePath { get; }
    public string Problem { get; }
}
