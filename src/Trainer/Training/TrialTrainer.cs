using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trainer.Memory;
using Orchestrator.Trainer.Memory.Quantization;
using Orchestrator.Trainer.Models.HuggingFace;
using Orchestrator.Trials.Models.Named;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Safetensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Orchestrator.Trials.Models.Decoders;
using Orchestrator.Trials.Metrics;

namespace Orchestrator.Trainer.Training;

/// <summary>
/// One trial from start to files: base model → adapter (LoRA injected, everything trainable, or nothing) → train →
/// evaluate → `adapter/` (PEFT) or `model.safetensors` (full) → `result.json`. Checkpoints go to
/// `checkpoints/step-N/` on the way; a request with <see cref="TrainingRequest.ResumeFrom"/> continues from one.
/// </summary>
/// <remarks>
/// The adaptation trains on the trial's own dataset, which for the rank study is the data the base was pretrained on:
/// the study pretrains 5 epochs on MNIST, then fine-tunes (LoRA at each rank, or every weight) on the same MNIST.
/// Dropout draws from the trial's own generator (seeded from its seed, saved in its checkpoints), so trials training
/// at once in one process are each bitwise what they are alone.
/// </remarks>
public static class TrialTrainer
{
    public const string AdapterFolder = "adapter";
    public const string FullModelFile = "model.safetensors";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Trains the trial. An observer returning false, or <paramref name="cancellationToken"/>, stops it at the next
    /// step; the outcome is then marked <see cref="TrainingOutcome.StoppedEarly"/> and still carries the metrics of
    /// the last evaluation and the files written from the weights at that point.
    /// </summary>
    /// <exception cref="InvalidTrainingConfigException">The config breaks a rule of <see cref="TrainingOptions"/>; nothing was loaded.</exception>
    /// <exception cref="LoraTargetException">The targets name no module of the loaded model (models whose modules are known only once loaded).</exception>
    /// <exception cref="CheckpointCorruptException">The resume checkpoint fails its checksums (see <see cref="CheckpointDirectory.FindLatestValid"/>).</exception>
    public static TrainingOutcome Run(TrainingRequest request, ITrainingObserver? observer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Every rule of the config first: a broken one fails the same way on every retry, so fail before loading anything.
        var config = request.Config.Validate();

        var total = Stopwatch.StartNew();
        using var threadLease = TorchThreads.Use(); // the count it computes with, held until it returns
        var threads = threadLease.Threads;
        using var heap = MemoryBoundTrials.Includes(config) ? NativeHeap.LowPeak() : null;
        var peak = PeakMemory.Start(); // the baseline before anything of the trial is loaded
        var device = torch.device(request.Device);
        BasePrecision.CheckDevice(config, device);
        Directory.CreateDirectory(request.OutputDirectory);

        // Verify the resume point before spending time on the base model.
        using var resume = request.ResumeFrom is { } from ? CheckpointDirectory.Load(from) : null;

        // Names (`minilm-l6`, `imdb`) become local folders for loading only; the result keeps the names.
        var resolved = NamedResourceResolution.Resolve(config, request.Resources, cancellationToken);
        using var data = DatasetCatalog.Load(resolved, request.DataDirectory);
        var baseWatch = Stopwatch.StartNew();
        var baseModel = BaseModelCache.Get(resolved.Model, resolved.Dataset, data, request.Base, request.BaseCacheDirectory, config.Seed, cancellationToken,
            resolved.Pooling, BaseLoad.Of(config)); // a decoder's base loads half or quantised, tensor by tensor
        var baseElapsed = baseWatch.Elapsed;
        using var model = baseModel.Model;
        CheckDecoderFits(model, data, config);

        LoraInjection? injection = null;
        switch (config.Adapter)
        {
            case AdapterKind.Lora:
                if (config.ModulesToSave is { Count: > 0 } saved)
                {
                    // modules_to_save first: they are never LoRA targets (the rule table allows it for decoders only)
                    if (model is not ICausalLanguageModel decoder)
                        throw new ArgumentException($"modules_to_save is for decoders; model '{config.Model}' is not one");
                    decoder.TrainInFull(saved);
                }
                injection = LoraInjector.Inject(model, resolved, config.Seed);
                break;
            case AdapterKind.Full:
                foreach (var p in model.parameters()) p.requires_grad = true;
                break;
            default:
                // The frozen base; a classifier's head (its modules_to_save) still trains on it: a linear probe.
                var head = ModulesToSave.Of(model);
                foreach (var (name, p) in model.named_parameters()) p.requires_grad = ModulesToSave.Covers(head, name);
                break;
        }
        BaseQuantization.Apply(model, config.Quantize, config.DoubleQuant); // after injection (layers quantised as they loaded are kept): the adapters stay fp32
        BasePrecision.Apply(model, config.BaseDtype);
        model.to(device);
        ManagedGarbageBound.CollectLoadingGarbage(config);
        peak.EndLoading();
        heap?.EndLoading();
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList();
        var totalParameters = model.parameters().Sum(p => p.numel());
        var trainableParameters = trainable.Sum(p => p.parameter.numel());

        var loop = TrainingLoop.Run(model, data, trainable, new TrainingLoopOptions
        {
            Config = config,
            CheckpointOutputDirectory = config.Adapter == AdapterKind.Base ? null : request.OutputDirectory,
            Resume = resume,
            Observer = observer,
            CancellationToken = cancellationToken,
            Device = device,
        });

        var baseModelName = BaseModelName(config, request);
        var files = WriteWeights(request.OutputDirectory, config, baseModelName, model, injection);
        return Complete(request, config, baseModel, baseElapsed, data.Task, loop, trainableParameters, totalParameters, files, threads, total,
            resume?.Manifest.Step ?? 0, pack: null, peak);
    }

    /// <summary>A decoder must know every token id of the dataset and have positions for seq_len tokens: said before any training.</summary>
    internal static void CheckDecoderFits(nn.Module model, ITrainingDataset data, TrainingConfig config)
    {
        if (model is not ICausalLanguageModel decoder || !MetricNames.IsLanguageModelling(data.Task)) return;
        if (data.Classes > decoder.VocabSize)
            throw new InvalidTrainingConfigException([new("model", $"the tokenizer of '{config.Model}' has {data.Classes} ids but the model's vocabulary has {decoder.VocabSize}")]);
        if (config.SequenceLength > decoder.MaxPositions)
            throw new InvalidTrainingConfigException([new("seq_len", $"seq_len must be at most {decoder.MaxPositions} for model {config.Model} (its max_position_embeddings), got {config.SequenceLength}")]);
    }

    /// <summary>
    /// The name a trial's adapter config gives its base: the upstream id of a named model, a decoder folder's own
    /// <c>_name_or_path</c> (its Hub id), else the folder or checkpoint.
    /// </summary>
    internal static string BaseModelName(TrainingConfig config, TrainingRequest request) =>
        NamedEncoders.Find(config.Model)?.UpstreamId
        ?? DecoderArchitecture.Of(config.Model)?.NameOrPath
        ?? (Directory.Exists(config.Model) ? config.Model : request.Base.Checkpoint ?? config.Model);

    /// <summary>Writes `result.json` for a trained trial (alone or packed) and returns its outcome.</summary>
    internal static TrainingOutcome Complete(TrainingRequest request, TrainingConfig config, BaseModel baseModel, TimeSpan baseElapsed, TaskKind task,
        TrainingLoopResult loop, long trainableParameters, long totalParameters, SortedDictionary<string, string> files, int threads,
        Stopwatch total, long resumedAtStep, PackPlacement? pack, PeakMemory peakMemory)
    {
        var peak = peakMemory.Reading(); // one read of the high-water mark for both figures
        var result = new TrialResult
        {
            Config = config,
            Base = request.Base,
            BaseModelHash = baseModel.Hash,
            BaseModelSource = baseModel.Source,
            Task = task,
            Metrics = new SortedDictionary<string, double>(loop.Metrics.ToDictionary(), StringComparer.Ordinal),
            TrainableParameters = trainableParameters,
            TotalParameters = totalParameters,
            Steps = loop.Steps,
            TotalSteps = loop.TotalSteps,
            Evaluations = loop.Evaluations,
            StoppedEarly = loop.StoppedEarly,
            ResumedFrom = request.ResumeFrom,
            LastCheckpoint = loop.LastCheckpoint is null ? null : Path.GetRelativePath(request.OutputDirectory, loop.LastCheckpoint).Replace('\\', '/'),
            Device = request.Device,
            Threads = threads,
            Timings = new TrialTimings
            {
                BaseSeconds = baseElapsed.TotalSeconds,
                PretrainSeconds = baseModel.PretrainElapsed.TotalSeconds,
                TrainSeconds = loop.Elapsed.TotalSeconds,
                TotalSeconds = total.Elapsed.TotalSeconds,
                StepsPerSecond = loop.Elapsed.TotalSeconds > 0 ? (loop.Steps - resumedAtStep) / loop.Elapsed.TotalSeconds : 0,
            },
            Files = files,
            Pack = pack,
            PeakMemoryBytes = peak.Peak,
            PeakMemoryTrainingBytes = peak.Training,
        };
        var resultPath = Path.Combine(request.OutputDirectory, TrialResult.FileName);
        AtomicFile.WriteAllText(resultPath, JsonSerializer.Serialize(result, Json));

        var allFiles = new SortedDictionary<string, string>(files.ToDictionary(), StringComparer.Ordinal)
        {
            [TrialResult.FileName] = FileHashes.Sha256(resultPath),
        };
        return new TrainingOutcome(result.Metrics, trainableParameters, totalParameters, loop.Steps, total.Elapsed,
            loop.StoppedEarly, allFiles, loop.LastCheckpoint, baseModel.Hash) { PeakMemoryBytes = result.PeakMemoryBytes };
    }

    /// <summary>Writes `adapter/` (PEFT) from <paramref name="weights"/>, which it disposes, and returns its files' sha256 by relative path.</summary>
    internal static SortedDictionary<string, string> WriteAdapter(string outputDirectory, TrainingConfig config, string baseModelName,
        Dictionary<string, Tensor> weights, IReadOnlyList<string> modulePaths, IReadOnlyList<string> modulesToSave)
    {
        var adapterDirectory = Path.Combine(outputDirectory, AdapterFolder);
        try
        {
            var peft = PeftAdapterConfig.FromTrainingConfig(config, modulePaths, baseModelName, modulesToSave);
            AtomicFile.WriteDirectory(adapterDirectory, temp => PeftAdapter.Save(temp, weights, peft));
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, sha) in FileHashes.Tree(adapterDirectory))
            files[$"{AdapterFolder}/{name}"] = sha;
        return files;
    }

    /// <summary>Writes the trained weights (adapter folder or full model) and returns their sha256 by relative path.</summary>
    private static SortedDictionary<string, string> WriteWeights(string outputDirectory, TrainingConfig config, string baseModelName, nn.Module model, LoraInjection? injection)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        switch (config.Adapter)
        {
            case AdapterKind.Lora:
            {
                foreach (var (name, sha) in WriteAdapter(outputDirectory, config, baseModelName, LoraWeights.GetAgainstUnmodifiedBase(model),
                             injection!.Modules.Select(m => m.Path).ToList(), ModulesToSave.Of(model)))
                    files[name] = sha;
                break;
            }
            case AdapterKind.Full:
            {
                var path = Path.Combine(outputDirectory, FullModelFile);
                using (var scope = torch.NewDisposeScope())
                {
                    var tensors = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu());
                    SafetensorsFile.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
                }
                files[FullModelFile] = FileHashes.Sha256(path);
                break;
            }
        }
        return files;
    }
}
