using Orchestrator.Trainer.Models.HuggingFace;

namespace Orchestrator.Trainer.Models.Decoders;

/// <summary>The weights of a decoder folder: <c>model.safetensors</c>, or the shards its <c>model.safetensors.index.json</c> names.</summary>
public static class DecoderCheckpoint
{
    public const string WeightsFileName = "model.safetensors";
    public const string ShardIndexFileName = "model.safetensors.index.json";

    /// <summary>The folder's tensors by their headers, each read when asked for (in the file's dtype: F32, BF16 or F16). The caller disposes it.</summary>
    public static CheckpointTensors Open(string folder)
    {
        if (!File.Exists(Path.Combine(folder, WeightsFileName)) && !File.Exists(Path.Combine(folder, ShardIndexFileName)))
            throw new FileNotFoundException($"Decoder folder '{folder}' has no weights: neither {WeightsFileName} nor {ShardIndexFileName}.",
                Path.Combine(folder, WeightsFileName));
        return CheckpointTensors.Open(folder, WeightsFileName, ShardIndexFileName);
    }
}
