using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Data.Classification;
using Orchestrator.Trainer.Data.Instructions;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Data;

/// <summary>
/// Resolves a config's `dataset`: `mnist` (the shipped 10,000 digits), `synthetic-regression`, `text` (the shipped
/// tiny-stories corpus), a `.jsonl` file of texts, or a folder of MNIST IDX files (a user's full MNIST). With a Hugging
/// Face encoder as the model, a `.jsonl` / `.csv` of labelled texts or a folder of splits is text classification
/// (<see cref="TextClassificationDataset"/>, tokenized by the model folder's tokenizer, seq_len tokens each);
/// With a Hugging Face decoder folder as the model, TRL SFTTrainer rows (a .jsonl or .parquet file, or a folder of
/// splits) are instruction tuning (<see cref="InstructionDataset"/>). <see cref="MetricNames.TaskOf(string, string)"/> decides.
/// </summary>
public static class DatasetCatalog
{
    public const string TextCorpusFile = "tiny-stories.jsonl";

    /// <summary>The `data/` folder copied next to the binaries.</summary>
    public static string DefaultDataDirectory => Path.Combine(AppContext.BaseDirectory, "data");

    public static ITrainingDataset Load(TrainingConfig config, string? dataDirectory = null)
    {
        var dataset = config.Dataset;
        var root = dataDirectory ?? DefaultDataDirectory;
        switch (dataset)
        {
            case BuiltInDatasets.Mnist:
                return MnistDataset.Load(Path.Combine(root, "mnist"));
            case BuiltInDatasets.SyntheticRegression:
                return SyntheticRegressionDataset.Create();
            case BuiltInDatasets.Text:
                return TextDataset.Load(Path.Combine(root, "text", TextCorpusFile), config);
        }

        if (MetricNames.TaskOf(config.Model, dataset) is TaskKind.InstructionTuning or TaskKind.InstructionLabels)
            return InstructionDataset.Load(dataset, config.Model, config);
        if (MetricNames.TaskOf(config.Model, dataset) == TaskKind.TextClassification)
        {
            if (!Directory.Exists(config.Model))
                throw new ArgumentException($"dataset '{dataset}' is labelled text, which trains a Hugging Face encoder folder (bert, distilbert, roberta) given as the model, not '{config.Model}'");
            return TextClassificationDataset.Load(dataset, config.Model, config.SequenceLength, config.MaxTrainSamples, config.MaxEvalSamples);
        }
        if (dataset.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) && File.Exists(dataset))
            return TextDataset.Load(dataset, config);
        if (DatasetProbe.IsMnistFolder(dataset))
            return MnistDataset.Load(dataset);

        throw new ArgumentException(
            $"unknown dataset '{dataset}': expected one of {string.Join(", ", BuiltInDatasets.Names)}, a .jsonl file of texts, or a folder of MNIST IDX files");
    }
}
