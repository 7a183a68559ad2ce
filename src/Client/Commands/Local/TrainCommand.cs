using System.CommandLine;
using System.Globalization;
using Orchestrator.Client.Output;
using Orchestrator.Trainer.Configuration;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;
using Orchestrator.Trainer.Safetensors;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Client.Commands.Local;

/// <summary><c>train</c>: one trial on this machine, no cluster: base model ► LoRA ► train ► evaluate ► files.</summary>
public sealed class TrainCommand : OrchestratorCommand
{
    private static readonly Option<string> ModelOption = new("--model") { Description = "Built-in model (mlp, transformer-block, llama) or a Hugging Face model folder.", DefaultValueFactory = _ => "mlp" };
    private static readonly Option<string> DatasetOption = new("--dataset") { Description = "Built-in dataset (mnist, synthetic-regression, text) or a path.", DefaultValueFactory = _ => "mnist" };
    private static readonly Option<string> AdapterOption = new("--adapter") { Description = $"What trains: {string.Join(", ", AdapterModes.All)} (base only evaluates).", DefaultValueFactory = _ => AdapterModes.Lora };
    private static readonly Option<int> RankOption = new("--rank", "-r") { Description = "LoRA rank r.", DefaultValueFactory = _ => 8 };
    private static readonly Option<double?> AlphaOption = new("--alpha") { Description = "LoRA alpha (scaling alpha/r); default: the rank." };
    private static readonly Option<string?> TargetsOption = new("--targets") { Description = "Comma-separated target modules, or all-linear (the default)." };
    private static readonly Option<string> BiasOption = new("--bias") { Description = $"Which biases train: {string.Join(", ", BiasModes.Values)} (PEFT's bias).", DefaultValueFactory = _ => BiasModes.None };
    private static readonly Option<double> DropoutOption = new("--dropout") { Description = "LoRA dropout on the adapter's input.", DefaultValueFactory = _ => 0 };
    private static readonly Option<bool> RsloraOption = new("--use-rslora") { Description = "Scale by alpha/sqrt(r) instead of alpha/r." };
    private static readonly Option<string> InitOption = new("--init") { Description = $"lora_A initialisation: {string.Join(", ", InitModes.Values)}.", DefaultValueFactory = _ => InitModes.Kaiming };
    private static readonly Option<double> WeightDecayOption = new("--weight-decay") { Description = "AdamW weight decay.", DefaultValueFactory = _ => 0.01 };
    private static readonly Option<string> ScheduleOption = new("--schedule") { Description = $"Learning-rate schedule: {string.Join(", ", Schedules.Values)}.", DefaultValueFactory = _ => Schedules.Constant };
    private static readonly Option<int> WarmupStepsOption = new("--warmup-steps") { Description = "Linear warm-up steps.", DefaultValueFactory = _ => 0 };
    private static readonly Option<double> LearningRateOption = new("--lr") { Description = "Learning rate (AdamW).", DefaultValueFactory = _ => 1e-3 };
    private static readonly Option<int> EpochsOption = new("--epochs") { Description = "Epochs over the training split.", DefaultValueFactory = _ => 1 };
    private static readonly Option<int> MaxStepsOption = new("--max-steps") { Description = "Stop after this many optimizer steps (0: no limit).", DefaultValueFactory = _ => 0 };
    private static readonly Option<int?> BatchSizeOption = new("--batch-size") { Description = "Examples per step (default: the trainer's)." };
    private static readonly Option<int> EvalEveryOption = new("--eval-every") { Description = "Evaluate every N steps (0: at the end only).", DefaultValueFactory = _ => 0 };
    private static readonly Option<long> SeedOption = new("--seed") { Description = "Seed for initialisation and data order.", DefaultValueFactory = _ => 0 };
    private static readonly Option<string> OutOption = new("--out", "-o") { Description = "Output folder: adapter/, result.json, checkpoints/.", Required = true };
    private static readonly Option<string?> BaseOption = new("--base") { Description = "Base weights: a model.safetensors file or a Hugging Face folder. Default: pretrain the built-in model (cached)." };
    private static readonly Option<int> PretrainEpochsOption = new("--pretrain-epochs") { Description = "Epochs of the cached pretraining of a built-in base.", DefaultValueFactory = _ => 1 };
    private static readonly Option<double> PretrainLearningRateOption = new("--pretrain-lr") { Description = "Learning rate of that pretraining.", DefaultValueFactory = _ => 1e-3 };
    private static readonly Option<int> PretrainBatchSizeOption = new("--pretrain-batch-size") { Description = "Batch size of that pretraining.", DefaultValueFactory = _ => 256 };
    private static readonly Option<string?> DataDirOption = new("--data-dir") { Description = "Where cached bases live ({data-dir}/bases); default: .orchestrator-bases next to --out." };
    private static readonly Option<string?> DatasetDirOption = new("--datasets") { Description = "Where built-in datasets are read from; default: the data/ shipped with the orchestrator." };
    private static readonly Option<string> DeviceOption = new("--device") { Description = "cpu or cuda:N.", DefaultValueFactory = _ => "cpu" };

    public TrainCommand() : base("train", "Train one LoRA (or full / base) trial locally and write a PEFT adapter and result.json.")
    {
        foreach (var option in new Option[]
                 {
                     ModelOption, DatasetOption, AdapterOption, RankOption, AlphaOption, TargetsOption, BiasOption, DropoutOption, RsloraOption,
                     InitOption, LearningRateOption, WeightDecayOption, ScheduleOption, WarmupStepsOption, EpochsOption,
                     MaxStepsOption, BatchSizeOption, EvalEveryOption, SeedOption, OutOption, BaseOption, PretrainEpochsOption,
                     PretrainLearningRateOption, PretrainBatchSizeOption, DataDirOption, DatasetDirOption, DeviceOption, ConsoleOutput.JsonOption,
                 })
            Options.Add(option);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var request = BuildRequest(parseResult);
        var config = request.Config;

        TrainingOutcome outcome;
        try
        {
            outcome = await output.ProgressAsync(async board =>
            {
                var name = $"{config.Adapter} {config.Model} on {config.Dataset}";
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
                                      or ArgumentException or FormatException)
        {
            throw new UserInputException(e.Message);
        }
        cancellationToken.ThrowIfCancellationRequested();

        if (output.IsJson)
        {
            output.Json(new
            {
                OutputDirectory = Path.GetFullPath(request.OutputDirectory),
                config.Adapter,
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

    private static TrainingRequest BuildRequest(ParseResult parseResult)
    {
        var adapter = parseResult.GetValue(AdapterOption)!;
        if (!AdapterModes.All.Contains(adapter))
            throw new UserInputException($"--adapter '{adapter}' is not allowed; use one of {string.Join(", ", AdapterModes.All)}.");
        var rank = parseResult.GetValue(RankOption);
        if (rank < 1) throw new UserInputException($"--rank {rank} is not allowed; the rank must be a positive integer (e.g. 8).");
        var alpha = parseResult.GetValue(AlphaOption) ?? rank;
        if (!(alpha > 0) || double.IsInfinity(alpha)) throw new UserInputException($"--alpha {alpha} is not allowed; alpha must be a positive number.");
        var lr = parseResult.GetValue(LearningRateOption);
        if (!(lr > 0) || double.IsInfinity(lr)) throw new UserInputException($"--lr {lr} is not allowed; the learning rate must be a positive number (e.g. 1e-3).");
        var epochs = parseResult.GetValue(EpochsOption);
        if (epochs < 0) throw new UserInputException($"--epochs {epochs} is not allowed; use 0 or more.");
        var maxSteps = parseResult.GetValue(MaxStepsOption);
        if (maxSteps < 0) throw new UserInputException($"--max-steps {maxSteps} is not allowed; use 0 (no limit) or more.");
        if (epochs == 0 && maxSteps == 0) throw new UserInputException("--epochs 0 with no --max-steps trains nothing; give one of them.");
        var evalEvery = parseResult.GetValue(EvalEveryOption);
        if (evalEvery < 0) throw new UserInputException($"--eval-every {evalEvery} is not allowed; use 0 (at the end) or more.");
        var batchSize = parseResult.GetValue(BatchSizeOption);
        if (batchSize is < 1) throw new UserInputException($"--batch-size {batchSize} is not allowed; use 1 or more.");
        var bias = parseResult.GetValue(BiasOption)!;
        if (!BiasModes.Values.Contains(bias)) throw new UserInputException($"--bias '{bias}' is not allowed; use one of {string.Join(", ", BiasModes.Values)}.");
        var init = parseResult.GetValue(InitOption)!;
        if (!InitModes.Values.Contains(init)) throw new UserInputException($"--init '{init}' is not allowed; use one of {string.Join(", ", InitModes.Values)}.");
        var schedule = parseResult.GetValue(ScheduleOption)!;
        if (!Schedules.Values.Contains(schedule)) throw new UserInputException($"--schedule '{schedule}' is not allowed; use one of {string.Join(", ", Schedules.Values)}.");
        var dropout = parseResult.GetValue(DropoutOption);
        if (!(dropout >= 0 && dropout < 1)) throw new UserInputException($"--dropout {dropout} is not allowed; use a probability in [0, 1).");
        var weightDecay = parseResult.GetValue(WeightDecayOption);
        if (!(weightDecay >= 0) || double.IsInfinity(weightDecay)) throw new UserInputException($"--weight-decay {weightDecay} is not allowed; use 0 or more.");
        var warmup = parseResult.GetValue(WarmupStepsOption);
        if (warmup < 0) throw new UserInputException($"--warmup-steps {warmup} is not allowed; use 0 or more.");
        var device = parseResult.GetValue(DeviceOption)!;
        if (device != "cpu" && !device.StartsWith("cuda", StringComparison.Ordinal))
            throw new UserInputException($"--device '{device}' is not allowed; use cpu or cuda:N.");

        var config = new TrainingConfig
        {
            Model = parseResult.GetValue(ModelOption)!,
            Dataset = parseResult.GetValue(DatasetOption)!,
            Adapter = adapter,
            Rank = rank,
            Alpha = alpha,
            TargetModules = LocalOptions.SplitList(parseResult.GetValue(TargetsOption)) is { Count: > 0 } targets ? targets : [LoraInjector.AllLinear],
            Bias = bias,
            Dropout = dropout,
            UseRslora = parseResult.GetValue(RsloraOption),
            Init = init,
            LearningRate = lr,
            WeightDecay = weightDecay,
            Schedule = schedule,
            WarmupSteps = warmup,
            Epochs = epochs,
            MaxSteps = maxSteps,
            EvalEvery = evalEvery,
            Seed = parseResult.GetValue(SeedOption),
        };
        if (batchSize is { } b) config = config with { BatchSize = b };

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
        };
    }

    private static string Describe(TrainingConfig config, IReadOnlyDictionary<string, double> metrics)
    {
        var shown = metrics.Where(m => m.Key.StartsWith("test_", StringComparison.Ordinal)).OrderBy(m => m.Key, StringComparer.Ordinal)
            .Select(m => $"{m.Key} {ConsoleOutput.Number(m.Value)}");
        return $"{config.Adapter} {config.Model} on {config.Dataset}: {string.Join(", ", shown)}";
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
