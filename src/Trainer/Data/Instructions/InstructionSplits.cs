namespace Orchestrator.Trainer.Data.Instructions;

/// <summary>
/// The train, validation and test rows of instruction data: a single file is shuffled with a fixed seed (the same for
/// every trial and machine) and cut 80/10/10; a folder gives its train, validation (or valid, val, dev, eval) and test
/// files, and a split it lacks is cut from its train rows the same way (10% each).
/// </summary>
public sealed record InstructionSplits(IReadOnlyList<InstructionRow> Train, IReadOnlyList<InstructionRow> Validation, IReadOnlyList<InstructionRow> Test)
{
    /// <summary>The seed of the 80/10/10 cut: fixed, so every trial of a sweep sees the same splits.</summary>
    public const long SplitSeed = 42;

    public InstructionFormat Format => Train[0].Format;

    public IEnumerable<InstructionRow> All => Train.Concat(Validation).Concat(Test);

    /// <summary>
    /// At most <paramref name="maxTrain"/> training and <paramref name="maxEval"/> validation and test rows (0: all):
    /// fixed random subsets, the same for every trial, drawn as labelled text's are (max_train_samples, max_eval_samples).
    /// </summary>
    public InstructionSplits Subsets(int maxTrain, int maxEval) => maxTrain <= 0 && maxEval <= 0 ? this : new(
        Classification.TextClassificationDataset.Subset(Train, maxTrain, 1),
        Classification.TextClassificationDataset.Subset(Validation, maxEval, 2),
        Classification.TextClassificationDataset.Subset(Test, maxEval, 3));

    public static InstructionSplits Load(string dataset)
    {
        if (DatasetRows.IsRowFile(dataset))
        {
            if (!File.Exists(dataset)) throw new FileNotFoundException($"dataset file '{dataset}' does not exist", dataset);
            return Cut(InstructionFile.Read(dataset), dataset, cutValidation: true, cutTest: true);
        }
        if (!Directory.Exists(dataset) || DatasetProbe.InstructionSplit(dataset, "train") is not { } trainFile)
            throw new InvalidDataException($"dataset '{dataset}' is neither a .jsonl / .parquet file nor a folder with a train.jsonl or train.parquet");
        var validationFile = DatasetProbe.InstructionSplit(dataset, [.. DatasetProbe.ValidationSplitNames]);
        var testFile = DatasetProbe.InstructionSplit(dataset, "test");
        var cut = Cut(InstructionFile.Read(trainFile), trainFile, cutValidation: validationFile is null, cutTest: testFile is null);
        var splits = cut with
        {
            Validation = validationFile is null ? cut.Validation : InstructionFile.Read(validationFile),
            Test = testFile is null ? cut.Test : InstructionFile.Read(testFile),
        };
        var formats = splits.All.Select(r => r.Format).Distinct().ToList();
        if (formats.Count > 1)
            throw new InvalidDataException($"the splits of '{dataset}' mix {string.Join(" and ", formats.Select(InstructionFile.Describe))} rows; one format for every split");
        return splits;
    }

    private static InstructionSplits Cut(List<InstructionRow> rows, string file, bool cutValidation, bool cutTest)
    {
        var held = (cutValidation ? 1 : 0) + (cutTest ? 1 : 0);
        if (held == 0) return new InstructionSplits(rows, [], []);
        var each = Math.Max(1, (int)Math.Round(rows.Count * 0.1));
        if (rows.Count - held * each < 1)
            throw new InvalidDataException($"'{file}' has {rows.Count} row{(rows.Count == 1 ? "" : "s")}: too few to cut into train, validation and test splits (80/10/10); give at least {held + 1}");
        var order = DataOrder.Permutation(rows.Count, SplitSeed, epoch: 0);
        var shuffled = order.Select(i => rows[i]).ToList();
        var validation = cutValidation ? shuffled.Take(each).ToList() : [];
        var test = cutTest ? shuffled.Skip(validation.Count).Take(each).ToList() : [];
        var train = shuffled.Skip(validation.Count + test.Count).ToList();
        return new InstructionSplits(train, validation, test);
    }
}
