using Orchestrator.Trainer.Models.Llama;

namespace Orchestrator.Trainer.Models.Decoders;

/// <summary>The one way to load a Hugging Face decoder folder, whatever its model_type.</summary>
public static class CausalLanguageModels
{
    /// <summary>Loads <c>config.json</c> and the weights of a Hugging Face decoder folder.</summary>
    public static ICausalLanguageModel FromPretrained(string folder) => LlamaModel.FromPretrained(folder);
}
