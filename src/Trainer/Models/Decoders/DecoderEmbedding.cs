using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Models.Decoders;

/// <summary>
/// An embedding table built where a decoder's weights are built. TorchSharp 0.107's <c>nn.Embedding</c> allocates and
/// fills the full table on the CPU even when it is asked for the meta device, and that memory stays resident for the
/// life of the process after the module has moved to meta (measured: 31 MiB for 8,000 × 1,024, the table's size in
/// fp32; 500 MiB for Llama-2-7B's 32,000 × 4,096). On the meta device the module is therefore built with one row and
/// then given its full-size meta weight, which allocates nothing; the loader replaces it with the checkpoint's table.
/// </summary>
public static class DecoderEmbedding
{
    public static Embedding Create(long count, long dimensions, Device? device)
    {
        if (device is null || device.type != DeviceType.META) return nn.Embedding(count, dimensions, device: device);
        var embedding = nn.Embedding(1, dimensions);
        embedding.weight = new Parameter(torch.empty(count, dimensions, device: device));
        return embedding;
    }
}
