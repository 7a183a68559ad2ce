using Orchestrator.Trainer.Data.ChatTemplates;
using Orchestrator.Trainer.Data.Tokenizers;
using Orchestrator.Trials.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Data.Instructions;

/// <summary>
/// TRL-format rows (<see cref="InstructionSplits"/>) tokenized by the model folder's tokenizer (<see cref="InstructionEncoder"/>)
/// for a Hugging Face decoder. A batch's inputs are [B, 3, T]: token ids, the attention mask (1 real, 0 padding) and the
/// position ids; its targets [B, T] are the next token where it carries the loss and -100 (ignored) elsewhere, padding
/// included. Examples are truncated to seq_len + 1 tokens (seq_len predictions), padded on the right and trimmed to the
/// longest in each batch, so padding changes no loss. With pack_sequences the training examples are packed in order
/// into windows of seq_len, each example's positions starting at 0 and no target crossing into the next example;
/// attention across examples of a window is not blocked (the decoders take a [B, T] mask), validation and test are not
/// packed. Examples with no trained target left after truncation are dropped.
/// </summary>
public sealed class InstructionDataset : ITrainingDataset
{
    public const long IgnoreIndex = -100;

    private readonly TensorDataset _trainTest;
    private readonly Tensor _validationInputs, _validationTargets;

    private InstructionDataset(string name, TaskKind task, long vocabulary, TensorDataset trainTest, Tensor validationInputs, Tensor validationTargets,
        LabelChoices? labels, InstructionFormat format, int dropped)
    {
        Name = name;
        Task = task;
        Classes = vocabulary;
        _trainTest = trainTest;
        _validationInputs = validationInputs.DetachFromDisposeScope();
        _validationTargets = validationTargets.DetachFromDisposeScope();
        Labels = labels;
        Format = format;
        Dropped = dropped;
    }

    public string Name { get; }
    public TaskKind Task { get; }
    public long Classes { get; }
    public long TrainCount => _trainTest.TrainCount;
    public long TestCount => _trainTest.TestCount;
    public long ValidationCount => _validationInputs.shape[0];
    public InstructionFormat Format { get; }
    /// <summary>Examples left out because truncation to seq_len left them no trained target.</summary>
    public int Dropped { get; }
    /// <summary>The label candidates of every test prompt, for test_accuracy; null unless the task is <see cref="TaskKind.InstructionLabels"/>.</summary>
    public LabelChoices? Labels { get; }

    public static InstructionDataset Load(string dataset, string modelFolder, TrainingConfig config)
    {
        var tokenizer = ModelTokenizer.Load(modelFolder);
        var template = config.ChatTemplate is { } file
            ? ChatTemplate.Parse(File.Exists(file) ? File.ReadAllText(file) : throw new FileNotFoundException($"chat_template file '{file}' does not exist", file))
            : tokenizer.ChatTemplate();
        var splits = InstructionSplits.Load(dataset).Subsets(config.MaxTrainSamples, config.MaxEvalSamples);
        return Create(Path.GetFileName(Path.TrimEndingDirectorySeparator(dataset)), splits, tokenizer, template, config);
    }

    public static InstructionDataset Create(string name, InstructionSplits splits, ModelTokenizer tokenizer, ChatTemplate? template, TrainingConfig config)
    {
        var encoder = new InstructionEncoder(tokenizer, template, config.CompletionOnlyLoss, config.AssistantOnlyLoss);
        var maxTokens = config.SequenceLength + 1;
        var dropped = 0;
        List<EncodedExample> EncodeSplit(IReadOnlyList<InstructionRow> rows, string split)
        {
            var kept = rows.Select(r => encoder.Encode(r).Truncate(maxTokens)).Where(e => e.TrainedTargets > 0).ToList();
            dropped += rows.Count - kept.Count;
            if (kept.Count == 0 && rows.Count > 0)
                throw new InvalidDataException($"no {split} example of '{name}' keeps a trained token within seq_len {config.SequenceLength} (the prompts fill it); raise seq_len");
            return kept;
        }
        var train = EncodeSplit(splits.Train, "training");
        var validation = EncodeSplit(splits.Validation, "validation");
        var test = EncodeSplit(splits.Test, "test");
        var padId = tokenizer.PadId ?? tokenizer.EosId ?? 0;

        var completions = splits.Format == InstructionFormat.PromptCompletion ? splits.All.Select(r => r.Completion!).ToList() : [];
        var task = InstructionFormats.AreLabels(completions) ? TaskKind.InstructionLabels : TaskKind.InstructionTuning;
        var labels = task == TaskKind.InstructionLabels ? LabelChoices.Create(splits.Test, completions, tokenizer, template, maxTokens, padId) : null;

        using var scope = torch.NewDisposeScope();
        var trainWindows = config.PackSequences ? Pack(train, config.SequenceLength) : train.Select(Window.Of).ToList();
        var (trainX, trainY) = Stack(trainWindows, padId);
        var (testX, testY) = Stack(test.Select(Window.Of).ToList(), padId);
        var (validationX, validationY) = Stack(validation.Select(Window.Of).ToList(), padId);
        var trainTest = new TensorDataset(name, task, tokenizer.VocabSize, trainX, trainY, testX, testY);
        return new InstructionDataset(name, task, tokenizer.VocabSize, trainTest, validationX, validationY, labels, splits.Format, dropped);
    }

    public int TrainBatchCount(int batchSize) => _trainTest.TrainBatchCount(batchSize);

    public Batch TrainBatch(int batchSize, long seed, int epoch, int index) => Trim(_trainTest.TrainBatch(batchSize, seed, epoch, index));

    public IEnumerable<Batch> TestBatches(int batchSize) => _trainTest.TestBatches(batchSize).Select(Trim);

    public IEnumerable<Batch> ValidationBatches(int batchSize)
    {
        for (long start = 0; start < ValidationCount; start += batchSize)
        {
            var length = Math.Min(batchSize, ValidationCount - start);
            yield return Trim(new Batch(_validationInputs.narrow(0, start, length), _validationTargets.narrow(0, start, length)));
        }
    }

    /// <summary>The batch cut to its longest example: right padding beyond it changes nothing, and costs compute.</summary>
    internal static Batch Trim(Batch batch)
    {
        var longest = batch.Inputs.select(1, 1).sum(1).max().item<long>();
        var length = batch.Inputs.shape[2];
        return longest >= length ? batch : new Batch(batch.Inputs.narrow(2, 0, longest), batch.Targets.narrow(1, 0, longest));
    }

    /// <summary>One row of a batch: input ids, targets (-100 where untrained) and positions, before padding.</summary>
    public sealed record Window(int[] Ids, long[] Targets, long[] Positions)
    {
        public static Window Of(EncodedExample example)
        {
            var n = example.Ids.Length - 1;
            var targets = new long[n];
            for (var t = 0; t < n; t++) targets[t] = example.Trained[t + 1] ? example.Ids[t + 1] : IgnoreIndex;
            return new Window(example.Ids[..n], targets, Enumerable.Range(0, n).Select(p => (long)p).ToArray());
        }
    }

    /// <summary>Examples in order, each whole, into windows of at most <paramref name="length"/> predictions.</summary>
    public static List<Window> Pack(IReadOnlyList<EncodedExample> examples, int length)
    {
        var windows = new List<Window>();
        var ids = new List<int>();
        var targets = new List<long>();
        var positions = new List<long>();
        void Flush()
        {
            if (ids.Count == 0) return;
            windows.Add(new Window([.. ids], [.. targets], [.. positions]));
            ids.Clear();
            targets.Clear();
            positions.Clear();
        }
        foreach (var example in examples)
        {
            var window = Window.Of(example);
            if (ids.Count + window.Ids.Length > length) Flush();
            ids.AddRange(window.Ids);
            targets.AddRange(window.Targets);
            positions.AddRange(window.Positions);
        }
        Flush();
        return windows;
    }

    /// <summary>Inputs [N, 3, T] (ids, mask, positions) and targets [N, T], right-padded to the longest window.</summary>
    internal static (Tensor Inputs, Tensor Targets) Stack(IReadOnlyList<Window> windows, int padId)
    {
        var tokens = Math.Max(1, windows.Select(w => w.Ids.Length).DefaultIfEmpty(1).Max());
        var inputs = new long[windows.Count * 3 * tokens];
        var targets = new long[windows.Count * tokens];
        Array.Fill(targets, IgnoreIndex);
        for (var i = 0; i < windows.Count; i++)
        {
            var w = windows[i];
            var ids = i * 3 * tokens;
            for (var t = 0; t < tokens; t++)
            {
                var real = t < w.Ids.Length;
                inputs[ids + t] = real ? w.Ids[t] : padId;
                inputs[ids + tokens + t] = real ? 1 : 0;
                inputs[ids + 2 * tokens + t] = real ? w.Positions[t] : 0;
                if (real) targets[i * tokens + t] = w.Targets[t];
            }
        }
        return (torch.tensor(inputs, [windows.Count, 3, tokens], dtype: ScalarType.Int64), torch.tensor(targets, [windows.Count, tokens], dtype: ScalarType.Int64));
    }

    public void Dispose()
    {
        _trainTest.Dispose();
        _validationInputs.Dispose();
        _validationTargets.Dispose();
        Labels?.Dispose();
    }
}
