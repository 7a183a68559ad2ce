using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Client.Output;
using Orchestrator.Models.Sharing;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;
using Orchestrator.Trainer.Safetensors;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Client.Commands.Local;

/// <summary><c>train</c>: one trial on this machine, no cluster: base model ► LoRA ► train ► evaluate ► files.</summary>
public sealed class TrainCommand : OrchestratorCommand
{
    /// <summary>
    /// One option per knob of the trainer's rule table (all but the per-module maps): named, described, defaulted and
    /// checked by <see cref="TrainingOptions"/>, so `train` and a sweep mean the same thing by the same (or no) value.
    /// </summary>
    private static readonly IReadOnlyList<(TrainingOption Rule, Option Option)> ConfigOptions = TrainingOptions.All
        .Where(rule => rule.Kind is not (OptionKind.IntMap or OptionKind.NumberMap))
        .Select(rule => (rule, CreateOption(rule)))
        .ToList();

    private static readonly Option<string> OutOption = new("--out", "-o") { Description = "Output folder: adapter/, result.json, checkpoints/.", Required = true };
    private static readonly Option<string?> BaseOption = new("--base") { Description = "Base weights: a model.safetensors file or a Hugging Face folder. Default: pretrain the built-in model (cached)." };
    private static readonly Option<int> PretrainEpochsOption = new("--pretrain-epochs") { Description = "Epochs of the cached pretraining of a built-in base.", DefaultValueFactory = _ => PretrainSpec.Defaults.Epochs };
    private static readonly Option<double> PretrainLearningRateOption = new("--pretrain-lr") { Description = "Learning rate of that pretraining.", DefaultValueFactory = _ => PretrainSpec.Defaults.LearningRate };
    private static readonly Option<int> PretrainBatchSizeOption = new("--pretrain-batch-size") { Description = "Batch size of that pretraining.", DefaultValueFactory = _ => PretrainSpec.Defaults.BatchSize };
    private static readonly Option<string?> DataDirOption = new("--data-dir") { Description = "Where cached bases live ({data-dir}/bases); default: .orchestrator-bases next to --out." };
    private static readonly Option<string?> DatasetDirOption = new("--datasets") { Description = "Where built-in datasets are read from; default: the data/ shipped with the orchestrator." };
    private static readonly Option<string> DeviceOption = new("--device") { Description = "cpu or cuda:N.", DefaultValueFactory = _ => "cpu" };

    private static Option CreateOption(TrainingOption rule)
    {
        var description = $"{rule.Help} Default: {rule.DefaultText}.";
        // Short and historical spellings: -r as PEFT's r, --targets as `lora params`.
        string[] aliases = rule.Key switch { "rank" => ["-r"], "target_modules" => ["--targets"], _ => [] };
        return rule.Kind == OptionKind.Bool
            ? new Option<bool>(rule.CliName, aliases) { Description = description, DefaultValueFactory = _ => (bool)rule.Default! }
            : new Option<string?>(rule.CliName, aliases) { Description = description, HelpName = rule.Kind.ToString().ToLowerInvariant() };
    }

    public TrainCommand() : base("train", "Train one LoRA (or full / base) trial locally and write a PEFT adapter and result.json.")
    {
        foreach (var (_, option) in ConfigOptions) Options.Add(option);
        foreach (var option in new Option[]
                 {
                     OutOption, BaseOption, PretrainEpochsOption, PretrainLearningRateOption, PretrainBatchSizeOption, DataDirOption,
                     DatasetDirOption, DeviceOption, ConsoleOutput.JsonOption,
                 })
            Options.Add(option);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var request = BuildRequest(parseResult);
        var config = request.Config;
        DataPrepareCommand.EnsurePrepared(config.Dataset, output, cancellationToken);

        TrainingOutcome outcome;
        try
        {
            outcome = await output.ProgressAsync(async board =>
            {
                var name = $"{config.Adapter.ConfigName()} {config.Model} on {config.Dataset}";
                var bar = board.Add($"{name}: loading data and the base model (a pretrained base is cached)", Math.Max(1, config.MaxSteps));
                var observer = new ProgressObserver(bar, name);
                // The trainer is synchronous and CPU-bound: keep it off the thread that draws the progress bar.
                var result = await Task.Run(() => TrialTrainer.Run(request, observer, cancellationToken), cancellationToken);
                bar.Complete(Describe(config, result.Metrics));
                return result;
            });
        }
        catch (Exception e) when (e is UnknownModelException or LoraTargetException or IdxFormatException or SafetensorsFormatException
                                      or FileNotFoundException or DirectoryNotFoundException or CheckpointCorruptException
                                      or ArgumentException or FormatException or InvalidDataException
                                      or Orchestrator.Trainer.Data.ChatTemplates.ChatTemplateException or InvalidTrainingConfigException)
        {
            throw new UserInputException(e.Message);
        }
        cancellationToken.ThrowIfCancellationRequested();

        if (output.IsJson)
        {
            output.Json(new
            {
                OutputDirectory = Path.GetFullPath(request.OutputDirectory),
                Adapter = config.Adapter.ConfigName(),
                outcome.Metrics,
                outcome.TrainableParameters,
                outcome.TotalParameters,
                outcome.Steps,
                ElapsedSeconds = outcome.Elapsed.TotalSeconds,
                outcome.StoppedEarly,
                outcome.BaseModelHash,
                Files = outcome.FileSha256,
            });
            return ExitCodes.Success;
        }

        output.Table(["metric", "value"], outcome.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => (IReadOnlyList<string>)[m.Key, ConsoleOutput.Number(m.Value)]));
        output.KeyValues(
        [
            ("trainable parameters", $"{ConsoleOutput.Count(outcome.TrainableParameters)} of {ConsoleOutput.Count(outcome.TotalParameters)}"),
            ("steps", outcome.Steps.ToString(CultureInfo.InvariantCulture) + (outcome.StoppedEarly ? " (stopped early)" : "")),
            ("time", string.Create(CultureInfo.InvariantCulture, $"{outcome.Elapsed.TotalSeconds:0.0} s")),
            ("base model", outcome.BaseModelHash),
            ("output", Path.GetFullPath(request.OutputDirectory)),
        ]);
        foreach (var file in outcome.FileSha256.Keys) output.Line($"  wrote {file}");
        return ExitCodes.Success;
    }

    /// <summary>The trial a `train` command line asks for: the table's defaults, then each option given, every rule checked.</summary>
    /// <exception cref="UserInputException">An option breaks its rule, or the options together make no trainable config.</exception>
    public static TrainingRequest BuildRequest(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var device = parseResult.GetValue(DeviceOption)!;
        if (device != "cpu" && !device.StartsWith("cuda", StringComparison.Ordinal))
            throw new UserInputException($"--device '{device}' is not allowed; use cpu or cuda:N.");

        var config = ReadConfig(parseResult);
        if (config.Problems() is { Count: > 0 } problems)
            throw new UserInputException(string.Join("\n", problems.Select(p => $"{TrainingOptions.Get(p.Key).CliName}: {p.Message}.")));

        var baseWeights = parseResult.GetValue(BaseOption);
        BaseModelSpec baseSpec;
        if (baseWeights is not null)
        {
            if (!File.Exists(baseWeights) && !Directory.Exists(baseWeights))
                throw new UserInputException($"--base '{baseWeights}' does not exist; give a model.safetensors file or a Hugging Face model folder.", ExitCodes.NotFound);
            baseSpec = new BaseModelSpec { Checkpoint = Path.GetFullPath(baseWeights) };
        }
        else
        {
            var pretrainEpochs = parseResult.GetValue(PretrainEpochsOption);
            if (pretrainEpochs < 0) throw new UserInputException($"--pretrain-epochs {pretrainEpochs} is not allowed; use 0 (random base) or more.");
            baseSpec = new BaseModelSpec
            {
                Pretrain = new PretrainSpec
                {
                    Epochs = pretrainEpochs,
                    LearningRate = parseResult.GetValue(PretrainLearningRateOption),
                    BatchSize = parseResult.GetValue(PretrainBatchSizeOption),
                },
            };
        }

        var outputDirectory = Path.GetFullPath(parseResult.GetValue(OutOption)!);
        var dataDirectory = parseResult.GetValue(DataDirOption);
        var baseCache = dataDirectory is not null
            ? Path.Combine(Path.GetFullPath(dataDirectory), "bases")
            : Path.Combine(Path.GetDirectoryName(outputDirectory.TrimEnd(Path.DirectorySeparatorChar)) ?? outputDirectory, ".orchestrator-bases");
        var datasets = parseResult.GetValue(DatasetDirOption);
        if (datasets is not null && !Directory.Exists(datasets))
            throw new UserInputException($"--datasets '{datasets}' is not a folder.", ExitCodes.NotFound);
        return new TrainingRequest(config, baseSpec, outputDirectory, baseCache)
        {
            Device = device,
            DataDirectory = datasets is null ? null : Path.GetFullPath(datasets),
            Resources = new NamedResourceFolders(),
        };
    }

    /// <summary>Starts from the same defaults as a sweep (a default <see cref="TrainingConfig"/>) and sets what the options give.</summary>
    private static TrainingConfig ReadConfig(ParseResult parseResult)
    {
        var json = JsonSerializer.SerializeToNode(TrainingOptions.Defaults)!.AsObject();
        foreach (var (rule, option) in ConfigOptions)
        {
            if (option is Option<bool> flag)
            {
                json[rule.Key] = parseResult.GetValue(flag);
                continue;
            }
            if (parseResult.GetValue((Option<string?>)option) is { } text) json[rule.Key] = ParseValue(rule, text);
        }
        return json.Deserialize<TrainingConfig>()!;
    }

    /// <summary>One option's text as the JSON value of its key, or a message naming the option, the value and the rule.</summary>
    private static JsonNode? ParseValue(TrainingOption rule, string text)
    {
        JsonNode? value = null;
        string? need = rule.Requirement;
        switch (rule.Kind)
        {
            case OptionKind.Int when long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer):
                (value, need) = (JsonValue.Create(integer), rule.CheckInt(integer));
                break;
            case OptionKind.Number when double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number):
                (value, need) = (JsonValue.Create(number), rule.CheckNumber(number));
                break;
            case OptionKind.String:
                (value, need) = (JsonValue.Create(text), rule.CheckString(text));
                break;
            case OptionKind.StringList:
                value = new JsonArray(LocalOptions.SplitList(text).Select(name => (JsonNode?)JsonValue.Create(name)).ToArray());
                need = rule.Check(value);
                break;
            case OptionKind.IntList:
                var items = LocalOptions.SplitList(text);
                if (items.All(i => long.TryParse(i, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)))
                {
                    value = new JsonArray(items.Select(i => (JsonNode?)JsonValue.Create(long.Parse(i, CultureInfo.InvariantCulture))).ToArray());
                    need = rule.Check(value);
                }
                break;
        }
        if (need is null) return value;
        var shown = rule.Kind is OptionKind.Int or OptionKind.Number && value is not null ? text : $"'{text}'";
        throw new UserInputException($"{rule.CliName} {shown} is not allowed; {rule.Key} must be {need}.");
    }

    private static string Describe(TrainingConfig config, IReadOnlyDictionary<string, double> metrics)
    {
        var shown = metrics.Where(m => m.Key.StartsWith("test_", StringComparison.Ordinal)).OrderBy(m => m.Key, StringComparer.Ordinal)
            .Select(m => $"{m.Key} {ConsoleOutput.Number(m.Value)}");
        return $"{config.Adapter.ConfigName()} {config.Model} on {config.Dataset}: {string.Join(", ", shown)}";
    }

    /// <summary>Moves the bar with the trainer's steps; the description shows the latest loss.</summary>
    private sealed class ProgressObserver(ProgressBar bar, string name) : ITrainingObserver
    {
        public bool OnProgress(TrainingProgress progress)
        {
            var loss = progress.Metrics.TryGetValue(MetricNames.TrainLoss, out var l) ? l : progress.Metrics.TryGetValue("loss", out l) ? l : double.NaN;
            var description = double.IsNaN(loss)
                ? $"{name}: step {progress.Step}/{progress.TotalSteps}"
                : string.Create(CultureInfo.InvariantCulture, $"{name}: step {progress.Step}/{progress.TotalSteps}, loss {loss:0.0000}");
            bar.Update(progress.Step, description, total: progress.TotalSteps);
            return true;
        }

        public void OnCheckpoint(string directory, long step)
        {
        }
    }
}
