using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Data;

/// <summary>One batch. The tensors belong to the caller's dispose scope.</summary>
public readonly record struct Batch(Tensor Inputs, Tensor Targets)
{
    public long Size => Inputs.shape[0];
}

/// <summary>
/// A train/test split held in memory. Training batches come in a shuffled order that depends only on
/// (seed, epoch), so a batch is addressed by (epoch, index) and a resumed run sees exactly the batches an
/// uninterrupted one would, with no generator state to carry.
/// </summary>
public interface ITrainingDataset : IDisposable
{
    string Name { get; }
    TaskKind Task { get; }
    long TrainCount { get; }
    long TestCount { get; }
    /// <summary>Vocabulary size for <see cref="TaskKind.CausalLm"/>, classes for classification, 0 otherwise.</summary>
    long Classes { get; }

    /// <summary>Batches in one epoch; the last batch may be smaller.</summary>
    int TrainBatchCount(int batchSize);

    /// <summary>Batch <paramref name="index"/> of epoch <paramref name="epoch"/> in the shuffled order of (seed, epoch).</summary>
    Batch TrainBatch(int batchSize, long seed, int epoch, int index);

    /// <summary>Test batches in file order.</summary>
    IEnumerable<Batch> TestBatches(int batchSize);

    /// <summary>Examples held out for evaluations during training; 0 when the test split serves (datasets without one).</summary>
    long ValidationCount => 0;

    /// <summary>Validation batches in order; none unless <see cref="ValidationCount"/> is positive.</summary>
    IEnumerable<Batch> ValidationBatches(int batchSize) => [];
}
