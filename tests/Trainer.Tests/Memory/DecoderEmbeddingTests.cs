using Orchestrator.Trainer.Memory;
using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trainer.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Memory;

// Alone: it reads the process's resident size around one construction.
[Collection(AloneInProcess.Name)]
public sealed class DecoderEmbeddingTests
{
    [Fact]
    public void A_table_built_on_the_meta_device_has_its_full_shape_and_leaves_nothing_resident()
    {
        // 200,000 × 2,048 in fp32 is 1.5 GiB: TorchSharp's own nn.Embedding on meta left all of it resident.
        var before = PeakMemory.ResidentBytes()!.Value;
        using var embedding = DecoderEmbedding.Create(200_000, 2048, META);
        var grown = PeakMemory.ResidentBytes()!.Value - before;
        Assert.Equal(DeviceType.META, embedding.weight!.device_type);
        Assert.Equal([200_000L, 2048L], embedding.weight.shape);
        Assert.InRange(grown, long.MinValue, 256L << 20);
    }

    [Fact]
    public void On_the_cpu_it_is_an_ordinary_embedding_that_looks_rows_up()
    {
        using var embedding = DecoderEmbedding.Create(10, 4, null);
        using var ids = tensor(new long[] { 3, 7 });
        using var rows = embedding.forward(ids);
        Assert.Equal([2L, 4L], rows.shape);
        Assert.True(rows.eq(embedding.weight!.index_select(0, ids)).all().item<bool>());
    }
}
