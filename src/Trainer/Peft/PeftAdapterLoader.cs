using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trials.Configuration;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Peft;

/// <summary>
/// Puts a PEFT LoRA adapter folder on a loaded base (PeftModel.from_pretrained): LoRA layers on exactly the modules its
/// weights name, at its rank, alpha, rsLoRA and per-module patterns, then its weights. For evaluation and generation.
/// </summary>
public static class PeftAdapterLoader
{
    /// <exception cref="FileNotFoundException">The folder lacks adapter_config.json or adapter_model.safetensors.</exception>
    /// <exception cref="LoraTargetException">The adapter names modules the base does not have.</exception>
    public static PeftAdapterConfig Apply(nn.Module model, string adapterDirectory)
    {
        var (weights, adapter) = PeftAdapter.Load(adapterDirectory);
        try
        {
            if (adapter.PeftType != PeftAdapterConfig.LoraPeftType)
                throw new InvalidDataException($"'{adapterDirectory}' is a {adapter.PeftType} adapter; only LORA adapters apply here");
            var modules = weights.Keys.Select(PeftAdapter.ModulePathOf).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
            var config = new TrainingConfig
            {
                Adapter = AdapterKind.Lora, Rank = adapter.R, Alpha = adapter.LoraAlpha, UseRslora = adapter.UseRslora, Bias = adapter.Bias,
                TargetModules = modules,
                RankPattern = adapter.RankPattern.Count > 0 ? adapter.RankPattern : null,
                AlphaPattern = adapter.AlphaPattern.Count > 0 ? adapter.AlphaPattern : null,
            };
            if (adapter.ModulesToSave is { Count: > 0 } saved && model is ICausalLanguageModel decoder)
                decoder.TrainInFull(saved); // their saved weights replace the base's below, as PEFT's ModulesToSaveWrapper does
            LoraInjector.Inject(model, config, seed: 0);
            LoraWeights.Set(model, weights);
            return adapter;
        }
        finally
        {
            foreach (var tensor in weights.Values) tensor.Dispose();
        }
    }
}
