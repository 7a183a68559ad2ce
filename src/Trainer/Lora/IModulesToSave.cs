namespace Orchestrator.Trainer.Lora;

/// <summary>
/// A model with modules that train in full beside an adapter: PEFT's modules_to_save (a classification head). They
/// are never LoRA targets; their weights are saved in the adapter file as <c>base_model.model.&lt;parameter name&gt;</c>,
/// the keys PEFT's get_peft_model_state_dict writes once it strips <c>modules_to_save.default</c>.
/// </summary>
public interface IModulesToSave
{
    /// <summary>Module names, matched as PEFT does: the whole module path or a dotted suffix of it.</summary>
    IReadOnlyList<string> ModulesToSave { get; }
}

public static class ModulesToSave
{
    /// <summary>True when <paramref name="path"/> (a module path or parameter name) lies in one of <paramref name="modules"/>.</summary>
    public static bool Covers(IReadOnlyList<string>? modules, string path)
    {
        if (modules is not { Count: > 0 }) return false;
        for (var end = path.IndexOf('.'); ; end = path.IndexOf('.', end + 1))
        {
            var prefix = end < 0 ? path : path[..end];
            if (modules.Any(m => LoraInjector.NameMatches(prefix, m))) return true;
            if (end < 0) return false;
        }
    }

    /// <summary>The model's modules_to_save, or none.</summary>
    public static IReadOnlyList<string> Of(TorchSharp.torch.nn.Module model) => model is IModulesToSave m ? m.ModulesToSave : [];
}
