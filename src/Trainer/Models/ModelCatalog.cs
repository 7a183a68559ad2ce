using Orchestrator.Trainer.Models.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Models;

/// <summary>Builds a built-in model by name, with weights drawn deterministically from a seed.</summary>
public static class ModelCatalog
{
    /// <param name="vocabSize">The vocabulary of `llama` (<see cref="LlamaConfig.Tiny"/>): the text dataset's; byte-level by default.</param>
    public static nn.Module<Tensor, Tensor> Create(string model, long seed, double dropout = MlpModel.DefaultDropout,
        int vocabSize = LlamaConfig.ByteVocabSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        switch (model)
        {
            case BuiltInModels.Mlp:
                return new MlpModel(seed, dropout);
            case BuiltInModels.TransformerBlock:
                return new TransformerBlockModel(seed);
            case BuiltInModels.Llama:
                // Without a checkpoint `llama` is the tiny config; a Hugging Face folder is loaded by LlamaModel.FromPretrained.
                return LlamaModel.Create(LlamaConfig.Tiny(vocabSize), seed);
        }

        if (LinearModelName.Parse(model) is var (inFeatures, outFeatures))
            return new LinearModel(inFeatures, outFeatures, seed);

        throw new UnknownModelException(model,
            $"Unknown model '{model}'. Built-in models: {string.Join(", ", BuiltInModels.Names)}; or linear:INxOUT for one bare layer.");
    }
}
