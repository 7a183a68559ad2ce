using Orchestrator.Trainer.Models.HuggingFace;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Models.Decoders;

/// <summary>The weights of a decoder folder: <c>model.safetensors</c>, or the shards its <c>model.safetensors.index.json</c> names.</summary>
public static class DecoderCheckpoint
{
    public const string WeightsFileName = "model.safetensors";
    public const string ShardIndexFileName = "model.safetensors.index.json";

    /// <summary>Every tensor (in the file's dtype: F32, BF16 or F16; the model converts on copy) and a name for errors. The caller disposes them.</summary>
    public static (Dictionary<string, Tensor> Tensors, string Source) Read(string folder)
    {
        if (!File.Exists(Path.Combine(folder, WeightsFileName)) && !File.Exists(Path.Combine(folder, ShardIndexFileName)))
            throw new FileNotFoundException($"Decoder folder '{folder}' has no weights: neither {WeightsFileName} nor {ShardIndexFileName}.",
                Path.Combine(folder, WeightsFileName));
        return EncoderClassifier.ReadCheckpoint(folder);
    }
}
