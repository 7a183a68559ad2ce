using Orchestrator.Trainer.Memory;
using Orchestrator.Trainer.Models.Llama;
using Orchestrator.Trials.Models.Decoders;

namespace Orchestrator.Trainer.Models.Decoders;

/// <summary>The one way to load a Hugging Face decoder folder, whatever its model_type.</summary>
public static class CausalLanguageModels
{
    public const string ConfigFileName = "config.json";

    /// <summary>
    /// Loads <c>config.json</c> and the weights of a Hugging Face decoder folder, by its model_type
    /// (<see cref="DecoderModelTypes.All"/>), tensor by tensor in the form <paramref name="load"/> gives (fp32 when null).
    /// </summary>
    public static ICausalLanguageModel FromPretrained(string folder, BaseLoad? load = null)
    {
        var configPath = Path.Combine(folder, ConfigFileName);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"Decoder folder '{folder}' has no {ConfigFileName}.", configPath);
        return DecoderModelTypes.Read(configPath) switch
        {
            Gpt2Config.ModelTypeName => Gpt2Model.FromPretrained(folder, load),
            _ => LlamaModel.FromPretrained(folder, load),
        };
    }

    /// <summary>Writes a model loaded here back as a Hugging Face folder (config.json + model.safetensors).</summary>
    public static void SavePretrained(ICausalLanguageModel model, string folder)
    {
        switch (model)
        {
            case Gpt2Model gpt2: gpt2.SavePretrained(folder); break;
            case LlamaModel llama: llama.SavePretrained(folder); break;
            default: throw new NotSupportedException($"{model.GetType().Name} cannot be saved as a Hugging Face folder.");
        }
    }

    /// <summary>PEFT's fan_in_fan_out: true where the base's targets are Conv1D (GPT-2), so its adapters say so as PEFT's do.</summary>
    public static bool FanInFanOut(string folder) =>
        File.Exists(Path.Combine(folder, ConfigFileName)) && DecoderModelTypes.Read(Path.Combine(folder, ConfigFileName)) == Gpt2Config.ModelTypeName;
}
