namespace Orchestrator.Trials.Data;

/// <summary>
/// What a dataset path holds, told from its name and the files beside it without reading them: the one place that
/// decides whether a path is MNIST IDX files or labelled text, for validation (which has no tensors) and the loaders.
/// </summary>
public static class DatasetProbe
{
    private static readonly string[] MnistStems = ["train-images", "train-labels", "t10k-images", "t10k-labels"];
    private static readonly string[] LabelledTextExtensions = [".jsonl", ".csv"];

    /// <summary>True when <paramref name="directory"/> holds the four MNIST files.</summary>
    public static bool IsMnistFolder(string directory) =>
        Directory.Exists(directory) && MnistStems.All(stem => MnistFile(directory, stem) is not null);

    /// <summary>
    /// One MNIST IDX file by stem (`train-images`), plain or .gz, in the `train-images-idx3-ubyte` or
    /// `train-images.idx3-ubyte` spelling; null when absent.
    /// </summary>
    public static string? MnistFile(string directory, string stem)
    {
        var dimensions = stem.EndsWith("images", StringComparison.Ordinal) ? 3 : 1;
        foreach (var name in new[] { $"{stem}-idx{dimensions}-ubyte", $"{stem}.idx{dimensions}-ubyte" })
        {
            foreach (var candidate in new[] { name, name + ".gz" })
            {
                var path = Path.Combine(directory, candidate);
                if (File.Exists(path)) return path;
            }
        }
        return null;
    }

    /// <summary>A labelled-text file by its extension: .jsonl or .csv.</summary>
    public static bool IsLabelledTextFile(string path) =>
        LabelledTextExtensions.Any(ext => path.EndsWith(ext, StringComparison.OrdinalIgnoreCase));

    /// <summary>True when <paramref name="dataset"/> is a .jsonl/.csv file or a folder with a train and a test file.</summary>
    public static bool IsLabelledText(string dataset) =>
        IsLabelledTextFile(dataset) || (Directory.Exists(dataset) && LabelledTextSplit(dataset, "train") is not null && LabelledTextSplit(dataset, "test") is not null);

    /// <summary>A split's file in a folder of splits (`train.jsonl` or `train.csv`); null when absent.</summary>
    public static string? LabelledTextSplit(string folder, string split) =>
        LabelledTextExtensions.Select(ext => Path.Combine(folder, split + ext)).FirstOrDefault(File.Exists);

    // --- instruction data (TRL rows) ------------------------------------------------------------------------------

    /// <summary>The split names a folder of instruction data may use, in the order they are looked for.</summary>
    public static readonly IReadOnlyList<string> ValidationSplitNames = ["validation", "valid", "val", "dev", "eval"];

    /// <summary>A folder's split file (`train.jsonl` or `train.parquet`), or null.</summary>
    public static string? InstructionSplit(string folder, params string[] names) =>
        names.SelectMany(name => DatasetRows.Extensions.Select(ext => Path.Combine(folder, name + ext))).FirstOrDefault(File.Exists);

    /// <summary>True when <paramref name="dataset"/> is a .jsonl / .parquet file, or a folder with a train split of either.</summary>
    public static bool IsInstructionData(string dataset) =>
        DatasetRows.IsRowFile(dataset) || (Directory.Exists(dataset) && InstructionSplit(dataset, "train") is not null);

    /// <summary>The files of instruction data: the file itself, or a folder's train, validation and test splits (those present).</summary>
    public static IReadOnlyList<string> InstructionFiles(string dataset) =>
        DatasetRows.IsRowFile(dataset)
            ? [dataset]
            : new[] { InstructionSplit(dataset, "train"), InstructionSplit(dataset, [.. ValidationSplitNames]), InstructionSplit(dataset, "test") }
                .OfType<string>().ToList();

    /// <summary>
    /// Instruction tuning, or label completion when the rows are prompt/completion with a small set of completions
    /// (<see cref="InstructionFormats.AreLabels"/>), read from the rows. Unreadable files read as plain instruction
    /// tuning here: loading them says what is wrong, with the file and line.
    /// </summary>
    public static TaskKind InstructionTask(string dataset)
    {
        // Validation asks once per trial and option: read each version of the files once.
        var stamp = string.Join("|", InstructionFiles(dataset).Select(f => new FileInfo(f)).Select(f => $"{f.FullName}:{f.Length}:{f.LastWriteTimeUtc.Ticks}"));
        return InstructionTasks.GetOrAdd(stamp, _ => ReadInstructionTask(dataset));
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskKind> InstructionTasks = new(StringComparer.Ordinal);

    private static TaskKind ReadInstructionTask(string dataset)
    {
        try
        {
            var completions = new List<string>();
            foreach (var file in InstructionFiles(dataset))
            {
                foreach (var row in DatasetRows.Read(file))
                {
                    if (row.Fields is not { } fields) continue;
                    if (InstructionFormats.Of(fields) != InstructionFormat.PromptCompletion) return TaskKind.InstructionTuning;
                    if (fields.TryGetValue("completion", out var completion) && completion is string text) completions.Add(text);
                }
            }
            return InstructionFormats.AreLabels(completions) ? TaskKind.InstructionLabels : TaskKind.InstructionTuning;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return TaskKind.InstructionTuning;
        }
    }
}
