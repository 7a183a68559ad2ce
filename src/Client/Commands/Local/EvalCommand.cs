using System.CommandLine;
using System.Globalization;
using Orchestrator.Client.Output;
using Orchestrator.Trainer.Data.ChatTemplates;
using Orchestrator.Trainer.Data.Instructions;
using Orchestrator.Trainer.Training;
using Orchestrator.Trials.Configuration;
using TorchSharp;

namespace Orchestrator.Client.Commands.Local;

/// <summary>
/// <c>eval</c>: the loss and perplexity (and label accuracy, for prompt/completion data whose completions are labels) of
/// a Hugging Face decoder folder, or of it with a PEFT adapter, on TRL-format data, without training: the losses a trial
/// of that data reports, over the rows of the split asked for.
/// </summary>
public sealed class EvalCommand : OrchestratorCommand
{
    private static readonly Option<string> ModelOption = new("--model") { Description = "A Hugging Face decoder folder (config.json, weights, tokenizer), or a named decoder (imdb-llama: its cached folder, pretrained first if absent).", Required = true };
    private static readonly Option<string> DatasetOption = new("--dataset") { Description = "TRL rows: a .jsonl or .parquet file ({\"text\"}, {\"prompt\", \"completion\"} or {\"messages\"}), or a folder of train/validation/test splits.", Required = true };
    private static readonly Option<string?> AdapterOption = new("--adapter") { Description = "A PEFT LoRA adapter folder to apply to the model." };
    private static readonly Option<string> SplitOption = new("--split") { Description = "Which rows: all, train, validation or test (a single file is cut 80/10/10 as training cuts it).", DefaultValueFactory = _ => "all" };
    private static readonly Option<int> SequenceLengthOption = new("--seq-len") { Description = "Tokens per example (longer ones are truncated); default: the model's positions, at most 1024." };
    private static readonly Option<int> BatchSizeOption = new("--batch-size") { Description = "Examples per forward pass.", DefaultValueFactory = _ => 8 };
    private static readonly Option<bool> AllTokensOption = new("--all-tokens") { Description = "Score every token, prompts and every turn included (completion_only_loss and assistant_only_loss off)." };
    private static readonly Option<string?> ChatTemplateOption = new("--chat-template") { Description = "A Jinja chat-template file instead of the folder's." };

    private static readonly string[] Splits = ["all", "train", "validation", "test"];

    public EvalCommand() : base("eval", "Loss and perplexity of a decoder folder (with a PEFT adapter) on TRL-format data, without training.")
    {
        foreach (var option in new Option[] { ModelOption, DatasetOption, AdapterOption, SplitOption, SequenceLengthOption, BatchSizeOption, AllTokensOption, ChatTemplateOption, ConsoleOutput.JsonOption })
            Options.Add(option);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var modelFolder = LocalDecoder.FolderOf(parseResult.GetValue(ModelOption)!);
        var datasetPath = parseResult.GetValue(DatasetOption)!;
        var adapterFolder = parseResult.GetValue(AdapterOption);
        var split = parseResult.GetValue(SplitOption)!;
        if (!Splits.Contains(split)) throw new UserInputException($"--split '{split}' is not allowed; use {string.Join(", ", Splits)}.");
        var batchSize = parseResult.GetValue(BatchSizeOption);
        if (batchSize < 1) throw new UserInputException($"--batch-size must be at least 1, got {batchSize}.");
        if (!File.Exists(datasetPath) && !Directory.Exists(datasetPath))
            throw new UserInputException($"--dataset '{datasetPath}' does not exist.", ExitCodes.NotFound);
        var templateFile = parseResult.GetValue(ChatTemplateOption);
        if (templateFile is not null && !File.Exists(templateFile))
            throw new UserInputException($"--chat-template '{templateFile}' does not exist.", ExitCodes.NotFound);

        using var decoder = LocalDecoder.Load(modelFolder, adapterFolder);
        var seqLen = parseResult.GetValue(SequenceLengthOption) is var given and > 0 ? given : Math.Min(1024, decoder.Model.MaxPositions);
        if (seqLen > decoder.Model.MaxPositions)
            throw new UserInputException($"--seq-len must be at most {decoder.Model.MaxPositions} for this model (its max_position_embeddings), got {seqLen}.");
        var allTokens = parseResult.GetValue(AllTokensOption);
        var config = new TrainingConfig
        {
            Model = modelFolder, Dataset = datasetPath, SequenceLength = seqLen, CompletionOnlyLoss = !allTokens, AssistantOnlyLoss = !allTokens, ChatTemplate = templateFile,
        };

        Dictionary<string, double> metrics;
        long examples;
        int? scoredPrompts = null, unscoredPrompts = null;
        try
        {
            var template = templateFile is not null ? ChatTemplate.Parse(File.ReadAllText(templateFile)) : decoder.Tokenizer.ChatTemplate();
            var splits = InstructionSplits.Load(datasetPath);
            IReadOnlyList<InstructionRow> rows = split switch
            {
                "train" => splits.Train,
                "validation" => splits.Validation,
                "test" => splits.Test,
                _ => [.. splits.All],
            };
            if (rows.Count == 0) throw new UserInputException($"'{datasetPath}' has no {split} rows.");
            // The rows asked for are the test split of an evaluation-only dataset: the loss a trial's test evaluation computes.
            using var dataset = InstructionDataset.Create(Path.GetFileName(Path.TrimEndingDirectorySeparator(datasetPath)),
                new InstructionSplits(rows, [], rows), decoder.Tokenizer, template, config);
            if (dataset.Classes > decoder.Model.VocabSize)
                throw new UserInputException($"the tokenizer of '{modelFolder}' has {dataset.Classes} ids but the model's vocabulary has {decoder.Model.VocabSize}.");
            examples = dataset.TestCount;
            (scoredPrompts, unscoredPrompts) = (dataset.Labels?.Correct.Length, dataset.Labels?.Unscored);
            metrics = Evaluator.Evaluate(decoder.Module, dataset, batchSize, torch.CPU);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or ChatTemplateException)
        {
            throw new UserInputException(e.Message);
        }

        var loss = metrics[MetricNames.TestLoss];
        var perplexity = metrics[MetricNames.TestPerplexity];
        double? accuracy = metrics.TryGetValue(MetricNames.TestAccuracy, out var a) ? a : null;
        if (output.IsJson)
        {
            output.Json(new { Model = Path.GetFullPath(modelFolder), Adapter = adapterFolder is null ? null : Path.GetFullPath(adapterFolder), Dataset = datasetPath, Split = split, Examples = examples, Loss = loss, Perplexity = perplexity, Accuracy = accuracy, AccuracyPrompts = scoredPrompts });
            return Task.FromResult(ExitCodes.Success);
        }
        var rowsShown = new List<(string, string)>
        {
            ("model", modelFolder + (adapterFolder is null ? "" : $" + adapter {adapterFolder}")),
            ("dataset", $"{datasetPath} ({split}, {examples.ToString(CultureInfo.InvariantCulture)} examples)"),
            ("loss", ConsoleOutput.Number(loss)),
            ("perplexity", ConsoleOutput.Number(perplexity)),
        };
        if (accuracy is { } value)
            rowsShown.Add(("label accuracy", ConsoleOutput.Number(value) + (unscoredPrompts is > 0 ? $" ({scoredPrompts} prompts; {unscoredPrompts} left out: a label did not fit --seq-len whole)" : "")));
        output.KeyValues(rowsShown);
        return Task.FromResult(ExitCodes.Success);
    }
}
