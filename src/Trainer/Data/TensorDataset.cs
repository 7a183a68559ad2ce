using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Data;

/// <summary>An <see cref="ITrainingDataset"/> over four tensors whose first dimension is the sample.</summary>
public sealed class TensorDataset : ITrainingDataset
{
    private readonly Tensor _trainInputs, _trainTargets, _testInputs, _testTargets;
    // Each seed's order for its latest epoch: a packed run reads several trials' orders step by step.
    private readonly Dictionary<long, (int Epoch, long[] Order)> _orders = [];
    // The epoch's shuffled copy: one gather per epoch, then every batch is a zero-copy slice of it. One copy only, for
    // the first seed to ask (a trial alone: its own); the other members of a pack gather their batch's rows instead.
    private (long Seed, int Epoch, Tensor Inputs, Tensor Targets)? _epoch;

    public TensorDataset(string name, TaskKind task, long classes, Tensor trainInputs, Tensor trainTargets, Tensor testInputs, Tensor testTargets)
    {
        if (trainInputs.shape[0] != trainTargets.shape[0] || testInputs.shape[0] != testTargets.shape[0])
            throw new ArgumentException("inputs and targets must hold the same number of samples");
        Name = name;
        Task = task;
        Classes = classes;
        _trainInputs = trainInputs.DetachFromDisposeScope();
        _trainTargets = trainTargets.DetachFromDisposeScope();
        _testInputs = testInputs.DetachFromDisposeScope();
        _testTargets = testTargets.DetachFromDisposeScope();
    }

    public string Name { get; }
    public TaskKind Task { get; }
    public long Classes { get; }
    public long TrainCount => _trainInputs.shape[0];
    public long TestCount => _testInputs.shape[0];

    public Tensor TrainInputs => _trainInputs;
    public Tensor TrainTargets => _trainTargets;
    public Tensor TestInputs => _testInputs;
    public Tensor TestTargets => _testTargets;

    public int TrainBatchCount(int batchSize) => (int)((TrainCount + batchSize - 1) / batchSize);

    public Batch TrainBatch(int batchSize, long seed, int epoch, int index)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize));
        var order = OrderOf(seed, epoch);
        var start = (long)index * batchSize;
        if (index < 0 || start >= order.Length) throw new ArgumentOutOfRangeException(nameof(index));
        var length = (int)Math.Min(batchSize, order.Length - start);
        if (_epoch is { } cached && cached.Seed != seed)
        {
            // Another trial's order (packed training): the same rows, gathered for this batch alone rather than
            // evicting the epoch copy every step (or holding one per member).
            using var indices = torch.tensor(order[(int)start..((int)start + length)], dtype: ScalarType.Int64);
            return new Batch(_trainInputs.index_select(0, indices), _trainTargets.index_select(0, indices));
        }
        var (inputs, targets) = Shuffled(seed, epoch, order);
        // Slices share the epoch copy's storage and hold nothing of their own to free.
        return new Batch(inputs.narrow(0, start, length), targets.narrow(0, start, length));
    }

    public IEnumerable<Batch> TestBatches(int batchSize)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize));
        for (long start = 0; start < TestCount; start += batchSize)
        {
            var length = Math.Min(batchSize, TestCount - start);
            yield return new Batch(_testInputs.narrow(0, start, length), _testTargets.narrow(0, start, length));
        }
    }

    private (Tensor Inputs, Tensor Targets) Shuffled(long seed, int epoch, long[] order)
    {
        if (_epoch is { } e && e.Seed == seed && e.Epoch == epoch) return (e.Inputs, e.Targets);
        if (_epoch is { } stale) { stale.Inputs.Dispose(); stale.Targets.Dispose(); }
        using var scope = torch.NewDisposeScope();
        using var indices = torch.tensor(order, dtype: ScalarType.Int64);
        var inputs = _trainInputs.index_select(0, indices).DetachFromDisposeScope();
        var targets = _trainTargets.index_select(0, indices).DetachFromDisposeScope();
        _epoch = (seed, epoch, inputs, targets);
        return (inputs, targets);
    }

    private long[] OrderOf(long seed, int epoch)
    {
        if (_orders.TryGetValue(seed, out var last) && last.Epoch == epoch) return last.Order;
        var order = Array.ConvertAll(DataOrder.Permutation((int)TrainCount, seed, epoch), i => (long)i);
        _orders[seed] = (epoch, order);
        return order;
    }

    public void Dispose()
    {
        if (_epoch is { } e) { e.Inputs.Dispose(); e.Targets.Dispose(); _epoch = null; }
        _trainInputs.Dispose();
        _trainTargets.Dispose();
        _testInputs.Dispose();
        _testTargets.Dispose();
    }
}
