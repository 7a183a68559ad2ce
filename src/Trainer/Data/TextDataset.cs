using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Data.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Data;

/// <summary>
/// Causal language modelling over a .jsonl corpus (<see cref="TextCorpus"/>): each window of seq_len + 1 token ids
/// gives inputs (its first seq_len ids) and targets (its last seq_len ids), so the shift of next-token prediction is
/// already in the data and the loss is plain cross-entropy over every position.
/// </summary>
public static class TextDataset
{
    public static TensorDataset Load(string jsonlPath, TrainingConfig config)
    {
        if (!File.Exists(jsonlPath))
            throw new FileNotFoundException($"text corpus not found: {jsonlPath}", jsonlPath);
        var corpus = TextCorpus.Load(jsonlPath, config.Tokenizer, config.SequenceLength);
        using var scope = torch.NewDisposeScope();
        var (trainX, trainY) = Windows(corpus.Train, corpus.SequenceLength);
        var (testX, testY) = Windows(corpus.Test, corpus.SequenceLength);
        return new TensorDataset("text", TaskKind.CausalLm, corpus.VocabSize, trainX, trainY, testX, testY);
    }

    private static (Tensor Inputs, Tensor Targets) Windows(long[][] windows, int sequenceLength)
    {
        var flat = new long[windows.Length * (sequenceLength + 1)];
        for (var i = 0; i < windows.Length; i++)
            windows[i].CopyTo(flat, i * (sequenceLength + 1));
        var all = torch.tensor(flat, [windows.Length, sequenceLength + 1], dtype: ScalarType.Int64);
        return (all.narrow(1, 0, sequenceLength).contiguous(), all.narrow(1, 1, sequenceLength).contiguous());
    }
}
