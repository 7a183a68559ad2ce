namespace Orchestrator.Trainer.Models;

/// <summary>A model name that is neither a built-in nor something the catalog can build.</summary>
public sealed class UnknownModelException(string model, string message) : Exception(message)
{
    public string Model { get; } = model;
}
