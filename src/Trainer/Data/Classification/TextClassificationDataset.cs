using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Data.Classification;

/// <summary>
/// Text classification for a Hugging Face encoder: labelled texts (<see cref="LabelledTextFile"/>) tokenized by the
/// model folder's tokenizer to [N, 2, seq_len] (ids, attention mask) with int64 class indices.
/// </summary>
/// <remarks>
/// Splits: a folder holds <c>train</c>, <c>test</c> and optionally <c>validation</c> (each .jsonl or .csv); without
/// a validation file a tenth of train is held out. A single file is shuffled and cut 80/10/10 (train/validation/test).
/// Both cuts use the fixed <see cref="SplitSeed"/>, not the trial's seed, so every trial of a sweep is scored on the
/// same held-out rows. Classes: every label of every split, in numeric order when all are integers, otherwise in
/// ordinal string order; <see cref="Labels"/> keeps their names by class index.
/// </remarks>
public sealed class TextClassificationDataset : ITrainingDataset
{
    public const long SplitSeed = 20_240_613;
    public static readonly IReadOnlyList<string> SplitNames = ["train", "validation", "test"];

    private readonly TensorDataset _trainTest;
    private readonly Tensor _validationInputs, _validationTargets;

    private TextClassificationDataset(string name, IReadOnlyList<string> labels, TensorDataset trainTest, Tensor validationInputs, Tensor validationTargets)
    {
        Name = name;
        Labels = labels;
        _trainTest = trainTest;
        _validationInputs = validationInputs.DetachFromDisposeScope();
        _validationTargets = validationTargets.DetachFromDisposeScope();
    }

    public string Name { get; }
    public TaskKind Task => TaskKind.TextClassification;
    public long Classes => Labels.Count;
    /// <summary>Label names by class index.</summary>
    public IReadOnlyList<string> Labels { get; }
    public long TrainCount => _trainTest.TrainCount;
    public long TestCount => _trainTest.TestCount;
    public long ValidationCount => _validationInputs.shape[0];

    /// <summary>Reads <paramref name="dataset"/> (a file or a folder of splits) and tokenizes it with the tokenizer of <paramref name="modelFolder"/>.</summary>
    /// <param name="maxTrain">At most this many training examples (0: all): a subset drawn with <see cref="SplitSeed"/>, so the same for every trial.</param>
    /// <param name="maxEval">At most this many validation and test examples each (0: all), drawn the same way.</param>
    public static TextClassificationDataset Load(string dataset, string modelFolder, int sequenceLength, int maxTrain = 0, int maxEval = 0)
    {
        var tokenizer = EncoderTokenizer.Load(modelFolder);
        var (allTrain, allValidation, allTest) = Split(dataset);
        // Classes from every row, so a subset that happens to miss a label still has the full head.
        var labels = Classify(allTrain.Concat(allValidation).Concat(allTest));
        var (train, validation, test) = (Subset(allTrain, maxTrain, 1), Subset(allValidation, maxEval, 2), Subset(allTest, maxEval, 3));
        var index = labels.Select((label, i) => (label, i)).ToDictionary(p => p.label, p => (long)p.i, StringComparer.Ordinal);
        using var scope = torch.NewDisposeScope();
        var (trainX, trainY) = Tensors(train, tokenizer, sequenceLength, index);
        var (validationX, validationY) = Tensors(validation, tokenizer, sequenceLength, index);
        var (testX, testY) = Tensors(test, tokenizer, sequenceLength, index);
        var trainTest = new TensorDataset(Path.GetFileName(Path.TrimEndingDirectorySeparator(dataset)), TaskKind.TextClassification, labels.Count, trainX, trainY, testX, testY);
        return new TextClassificationDataset(trainTest.Name, labels, trainTest, validationX, validationY);
    }

    /// <summary>The three splits of a folder or single file, as the remarks describe.</summary>
    public static (IReadOnlyList<LabelledText> Train, IReadOnlyList<LabelledText> Validation, IReadOnlyList<LabelledText> Test) Split(string dataset)
    {
        if (Directory.Exists(dataset))
        {
            var trainFile = DatasetProbe.LabelledTextSplit(dataset, "train") ?? throw new FileNotFoundException($"'{dataset}' has no train.jsonl or train.csv.");
            var testFile = DatasetProbe.LabelledTextSplit(dataset, "test") ?? throw new FileNotFoundException($"'{dataset}' has no test.jsonl or test.csv.");
            var train = LabelledTextFile.Read(trainFile);
            var test = LabelledTextFile.Read(testFile);
            if (DatasetProbe.LabelledTextSplit(dataset, "validation") is { } validationFile)
                return Checked(dataset, train, LabelledTextFile.Read(validationFile), test);
            var order = DataOrder.Permutation(train.Count, SplitSeed, 0);
            var held = Math.Max(1, train.Count / 10);
            return Checked(dataset, order.Skip(held).Select(i => train[i]).ToList(), order.Take(held).Select(i => train[i]).ToList(), test);
        }
        var rows = LabelledTextFile.Read(dataset);
        var shuffled = DataOrder.Permutation(rows.Count, SplitSeed, 0).Select(i => rows[i]).ToList();
        var tenth = Math.Max(1, rows.Count / 10);
        return Checked(dataset, shuffled.Skip(2 * tenth).ToList(), shuffled.Skip(tenth).Take(tenth).ToList(), shuffled.Take(tenth).ToList());
    }

    private static (IReadOnlyList<LabelledText>, IReadOnlyList<LabelledText>, IReadOnlyList<LabelledText>) Checked(
        string dataset, IReadOnlyList<LabelledText> train, IReadOnlyList<LabelledText> validation, IReadOnlyList<LabelledText> test)
    {
        if (train.Count == 0 || validation.Count == 0 || test.Count == 0)
            throw new InvalidDataException($"'{dataset}' gives {train.Count} training, {validation.Count} validation and {test.Count} test examples; each split needs at least one.");
        return (train, validation, test);
    }

    /// <summary>At most <paramref name="max"/> rows (0: all), chosen by a fixed permutation and kept in file order.</summary>
    public static IReadOnlyList<T> Subset<T>(IReadOnlyList<T> rows, int max, int stream) =>
        max <= 0 || max >= rows.Count ? rows
            : DataOrder.Permutation(rows.Count, SplitSeed, stream).Take(max).Order().Select(i => rows[i]).ToList();

    /// <summary>Class names in index order: numeric when every label is an integer, else ordinal.</summary>
    public static IReadOnlyList<string> Classify(IEnumerable<LabelledText> rows)
    {
        var names = rows.Select(r => r.Label).Distinct(StringComparer.Ordinal).ToList();
        return names.All(n => long.TryParse(n, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            ? names.OrderBy(n => long.Parse(n, CultureInfo.InvariantCulture)).ToList()
            : names.Order(StringComparer.Ordinal).ToList();
    }

    private static (Tensor Inputs, Tensor Targets) Tensors(IReadOnlyList<LabelledText> rows, EncoderTokenizer tokenizer, int length,
        IReadOnlyDictionary<string, long> index)
    {
        var flat = new long[rows.Count * 2L * length];
        var targets = new long[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var (ids, mask) = tokenizer.Encode(rows[i].Text, length);
            ids.CopyTo(flat, i * 2L * length);
            mask.CopyTo(flat, (i * 2L + 1) * length);
            targets[i] = index[rows[i].Label];
        }
        return (torch.tensor(flat, [rows.Count, 2, length], dtype: ScalarType.Int64), torch.tensor(targets, dtype: ScalarType.Int64));
    }

    public int TrainBatchCount(int batchSize) => _trainTest.TrainBatchCount(batchSize);
    public Batch TrainBatch(int batchSize, long seed, int epoch, int index) => _trainTest.TrainBatch(batchSize, seed, epoch, index);
    public IEnumerable<Batch> TestBatches(int batchSize) => _trainTest.TestBatches(batchSize);

    public IEnumerable<Batch> ValidationBatches(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        for (long start = 0; start < ValidationCount; start += batchSize)
        {
            var length = Math.Min(batchSize, ValidationCount - start);
            yield return new Batch(_validationInputs.narrow(0, start, length), _validationTargets.narrow(0, start, length));
        }
    }

    public void Dispose()
    {
        _trainTest.Dispose();
        _validationInputs.Dispose();
        _validationTargets.Dispose();
    }
}
