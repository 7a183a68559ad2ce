namespace Orchestrator.Trainer.Lora;

/// <summary>The LoRA targets name modules the model does not have, or select no linear module at all.</summary>
public sealed class LoraTargetException : Exception
{
    public LoraTargetException(string problem, IReadOnlyList<string> linearModules)
        : base($"{problem} The model's linear modules are: {(linearModules.Count == 0 ? "(none)" : string.Join(", ", linearModules))}.")
    {
        LinearModules = linearModules;
    }

    /// <summary>Every linear module path of the model, the names a target may use.</summary>
    public IReadOnlyList<string> LinearModules { get; }
}
