using System.Diagnostics;
using System.Text.Json.Serialization;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;
using Orchestrator.Trainer.Models.HuggingFace;
using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trials.Models.Decoders;
using Orchestrator.Trials.Models.Named;
using Orchestrator.Trainer.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Benchmarks;

/// <summary>One benchmark: the trainer's loop against a bare TorchSharp loop doing the same math.</summary>
public sealed record TrainerBenchmarkResult
{
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("steps")] public int Steps { get; init; }
    [JsonPropertyName("threads")] public int Threads { get; init; }
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; }
    /// <summary>Rows through the linear layers per step: samples (mlp) or batch × sequence tokens (transformer-block).</summary>
    [JsonPropertyName("tokens_per_step")] public long TokensPerStep { get; init; }
    [JsonPropertyName("rank")] public int Rank { get; init; }
    [JsonPropertyName("targets")] public required IReadOnlyList<string> Targets { get; init; }
    [JsonPropertyName("params_touched")] public long ParametersTouched { get; init; }
    [JsonPropertyName("trainable_params")] public long TrainableParameters { get; init; }
    /// <summary>6 × params_touched × tokens_per_step (see <see cref="TrainerBenchmark.FlopFormula"/>).</summary>
    [JsonPropertyName("flops_per_step")] public double FlopsPerStep { get; init; }
    [JsonPropertyName("trainer_steps_per_second")] public double TrainerStepsPerSecond { get; init; }
    [JsonPropertyName("bare_steps_per_second")] public double BareStepsPerSecond { get; init; }
    [JsonPropertyName("trainer_gflops")] public double TrainerGflops => TrainerStepsPerSecond * FlopsPerStep / 1e9;
    [JsonPropertyName("bare_gflops")] public double BareGflops => BareStepsPerSecond * FlopsPerStep / 1e9;
    /// <summary>Trainer time per step over bare time per step (1.0 = no overhead).</summary>
    [JsonPropertyName("overhead_ratio")] public double OverheadRatio => TrainerStepsPerSecond > 0 ? BareStepsPerSecond / TrainerStepsPerSecond : double.NaN;
    /// <summary>Peak resident memory of the process during each loop (Linux VmHWM, reset before each; 0 where unavailable).</summary>
    [JsonPropertyName("trainer_peak_rss_bytes")] public long TrainerPeakRssBytes { get; init; }
    [JsonPropertyName("bare_peak_rss_bytes")] public long BarePeakRssBytes { get; init; }
    [JsonPropertyName("peak_rss_resettable")] public bool PeakRssResettable { get; init; }
    [JsonPropertyName("flop_formula")] public string Formula { get; init; } = TrainerBenchmark.FlopFormula;
    /// <summary>Tokens per example for an encoder (0 for the built-in models).</summary>
    [JsonPropertyName("seq_len")] public int SequenceLength { get; init; }
    /// <summary>PyTorch eager on the same weights and step (scripts/bench/pytorch_bert_lora.py); null when not run.</summary>
    [JsonPropertyName("pytorch_steps_per_second")] public double? PytorchStepsPerSecond { get; init; }
    [JsonPropertyName("pytorch_version")] public string? PytorchVersion { get; init; }
    [JsonPropertyName("pytorch_gflops")] public double? PytorchGflops => PytorchStepsPerSecond * FlopsPerStep / 1e9;
    /// <summary>Trainer steps/s over PyTorch's (1.0 = as fast; above 1 = faster).</summary>
    [JsonPropertyName("trainer_vs_pytorch")] public double? TrainerVsPytorch => PytorchStepsPerSecond is > 0 ? TrainerStepsPerSecond / PytorchStepsPerSecond : null;
}

/// <summary>
/// Measures what the trainer costs over the math it runs. Fixed configs: `mlp` (MNIST, batch 1024, LoRA r=8 on
/// l1, l2, l3), `transformer-block` (synthetic regression, batch 10 × 32 tokens, LoRA r=8 on q_proj, v_proj) and each
/// named encoder (IMDB, batch 16 × 128 tokens, LoRA r=8 on query, value, the classifier trained as modules_to_save).
/// The trainer side is <see cref="TrainingLoop"/> itself (shuffled batches, LR schedule, loss accumulated on the
/// device, progress every step); the bare side is forward, loss, backward, gradient clipping and AdamW on pre-made
/// tensors of the same shape: the same per-step math, dtype and thread count. Both skip <see cref="WarmupSteps"/>
/// before timing. Evaluation is not trainer overhead per step: the config evaluates only after the last step, outside
/// the timed window (with per-epoch evaluation the transformer-block's 10-batch epochs would put one in every 10 steps).
/// </summary>
public static class TrainerBenchmark
{
    public const int WarmupSteps = 3;

    public const string FlopFormula =
        "flops/step = 6 × params_touched × tokens_per_step (2 forward + 4 backward per weight per row); params_touched = every " +
        "parameter the step multiplies, frozen and LoRA alike. Frozen weights need no weight gradient (4, not 6), and " +
        "attention's score/value products are not counted, so the figure is the usual dense-training equivalent.";

    private sealed record Setup(string Dataset, int BatchSize, long TokensPerStep, IReadOnlyList<string> Targets, int SequenceLength = 0,
        int Rank = LoraRank, double Alpha = LoraAlpha);

    // A Hugging Face decoder folder (issue 24): random tokens, batch 4 × 64, LoRA r=16 (alpha 32) on all linear layers.
    public const int DecoderBatchSize = 4;
    public const int DecoderSequenceLength = 64;
    public const int DecoderRank = 16;
    public const double DecoderAlpha = 32;

    /// <summary>The models with a benchmark: the built-ins below and every named encoder (batch 16 × 128 tokens of IMDB, r=8 on query, value).</summary>
    public static IReadOnlyList<string> Models => [BuiltInModels.Mlp, BuiltInModels.TransformerBlock, .. NamedEncoders.Names];

    public const int LoraRank = 8;
    public const double LoraAlpha = 16;
    public const int EncoderBatchSize = 16;
    public const int EncoderSequenceLength = 128;

    private static Setup SetupOf(string model) => model switch
    {
        BuiltInModels.Mlp => new(BuiltInDatasets.Mnist, 1024, 1024, ["l1", "l2", "l3"]),
        BuiltInModels.TransformerBlock => new(BuiltInDatasets.SyntheticRegression, 10, 10 * SyntheticRegressionDataset.SequenceLength, ["q_proj", "v_proj"]),
        _ when DecoderArchitecture.IsDecoderFolder(model) => new("text", DecoderBatchSize, DecoderBatchSize * DecoderSequenceLength, [LoraInjector.AllLinear],
            DecoderSequenceLength, DecoderRank, DecoderAlpha),
        _ when NamedEncoders.Find(model) is not null => new(NamedDatasets.Imdb, EncoderBatchSize, EncoderBatchSize * EncoderSequenceLength, ["query", "value"], EncoderSequenceLength),
        _ => throw new ArgumentException($"no benchmark for model '{model}' ({string.Join(", ", Models)})", nameof(model)),
    };

    /// <param name="resources">Where a named encoder and its dataset come from (only needed for those).</param>
    public static TrainerBenchmarkResult Run(string model, int steps, int threads, string? dataDirectory = null, INamedResources? resources = null)
    {
        if (steps <= WarmupSteps + 1) throw new ArgumentOutOfRangeException(nameof(steps), $"needs more than {WarmupSteps + 1} steps");
        var setup = SetupOf(model);
        using var threadLease = TorchThreads.Use(threads);
        var named = new TrainingConfig
        {
            Model = model, Dataset = setup.Dataset, Rank = setup.Rank, Alpha = setup.Alpha, TargetModules = setup.Targets, BatchSize = setup.BatchSize,
            MaxSteps = steps, EvalEvery = steps, LearningRate = 1e-3, Seed = 1,
        };
        var decoder = DecoderArchitecture.IsDecoderFolder(model);
        if (setup.SequenceLength > 0 && !decoder)
            // Enough rows for the bare loop's cycle of batches; evaluation (after the timed steps) on one batch.
            // [CLS] through BERT's pooler, as the PyTorch reference computes it, whatever the encoder's own pooling.
            named = named with { SequenceLength = setup.SequenceLength, MaxTrainSamples = setup.BatchSize * 32, MaxEvalSamples = setup.BatchSize, Pooling = EncoderPooling.Cls };
        var config = NamedResourceResolution.Resolve(named, resources, CancellationToken.None);
        using var data = decoder ? RandomTokens(config, DecoderArchitecture.Load(model).VocabSize, setup) : DatasetCatalog.Load(config, dataDirectory);
        var resettable = PeakRss.Reset();
        var (bareRate, paramsTouched, trainableParameters) = Bare(config, data, setup, steps);
        var bareRss = PeakRss.Read();
        PeakRss.Reset();
        var trainerRate = Trainer(config, data, steps);
        var trainerRss = PeakRss.Read();
        return new TrainerBenchmarkResult
        {
            Model = model, Steps = steps, Threads = threads, BatchSize = setup.BatchSize, TokensPerStep = setup.TokensPerStep, Rank = config.Rank,
            Targets = setup.Targets, ParametersTouched = paramsTouched, TrainableParameters = trainableParameters,
            FlopsPerStep = 6.0 * paramsTouched * setup.TokensPerStep,
            TrainerStepsPerSecond = trainerRate, BareStepsPerSecond = bareRate,
            TrainerPeakRssBytes = trainerRss, BarePeakRssBytes = bareRss, PeakRssResettable = resettable,
            SequenceLength = setup.SequenceLength,
        };
    }

    /// <summary>A built-in model, a Hugging Face encoder folder with a head for the dataset's classes, or a decoder folder.</summary>
    private static nn.Module<Tensor, Tensor> CreateModel(TrainingConfig config, ITrainingDataset data) =>
        EncoderConfig.IsEncoderFolder(config.Model)
            ? EncoderClassifier.FromPretrained(config.Model, (int)data.Classes, config.Seed, config.Pooling)
            : DecoderArchitecture.IsDecoderFolder(config.Model)
                ? (nn.Module<Tensor, Tensor>)CausalLanguageModels.FromPretrained(config.Model)
                : ModelCatalog.Create(config.Model, config.Seed);

    /// <summary>
    /// Next-token windows of seeded random ids over the decoder's vocabulary (32 batches to train on, one to evaluate):
    /// the step's cost does not depend on which tokens they are, and any folder's vocabulary fits.
    /// </summary>
    private static Data.TensorDataset RandomTokens(TrainingConfig config, int vocabSize, Setup setup)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new torch.Generator((ulong)config.Seed);
        var rows = setup.BatchSize * 33;
        var windows = torch.randint(vocabSize, [rows, setup.SequenceLength + 1], generator: generator, dtype: ScalarType.Int64);
        var inputs = windows[.., ..^1].contiguous();
        var targets = windows[.., 1..].contiguous();
        var train = setup.BatchSize * 32;
        return new Data.TensorDataset("text", TaskKind.CausalLm, vocabSize, inputs[..train].clone(), targets[..train].clone(), inputs[train..].clone(), targets[train..].clone());
    }

    private static double Trainer(TrainingConfig config, ITrainingDataset data, int steps)
    {
        using var model = CreateModel(config, data);
        LoraInjector.Inject(model, config, config.Seed);
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList();
        var clock = new StepClock(WarmupSteps, steps - 1);
        TrainingLoop.Run(model, data, trainable, new TrainingLoopOptions { Config = config, Observer = clock, ProgressEvery = 1 });
        return clock.StepsPerSecond;
    }

    private static (double StepsPerSecond, long ParamsTouched, long Trainable) Bare(TrainingConfig config, ITrainingDataset data, Setup setup, int steps)
    {
        using var model = CreateModel(config, data);
        LoraInjector.Inject(model, config, config.Seed);
        var parameters = model.parameters().Where(p => p.requires_grad).ToList();
        using var optimizer = new AdamW(parameters, config.LearningRate, TrainingLoop.Beta1, TrainingLoop.Beta2, TrainingLoop.Epsilon, config.WeightDecay);
        using var scope0 = torch.NewDisposeScope();
        // The floor reads real data too: it cycles through one epoch's batches, gathered before the clock starts, so
        // both loops move the same bytes and the difference is the trainer's own work (ordering, metrics, hooks).
        var batches = Enumerable.Range(0, data.TrainBatchCount(setup.BatchSize))
            .Select(i => data.TrainBatch(setup.BatchSize, 0, 0, i))
            .Where(b => b.Size == setup.BatchSize)
            .Select(b => (Inputs: b.Inputs.clone(), Targets: b.Targets.clone()))
            .ToList();
        model.train();
        var watch = new Stopwatch();
        for (var step = 0; step < steps; step++)
        {
            if (step == WarmupSteps) watch.Start();
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var (inputs, targets) = batches[step % batches.Count];
            var output = ModelForward.Run(model, inputs);
            var loss = TaskLoss.Compute(data.Task, output, targets);
            loss.backward();
            if (config.GradClip > 0) nn.utils.clip_grad_norm_(parameters, config.GradClip);
            optimizer.step();
        }
        watch.Stop();
        // Embedding tables are looked up, not multiplied: they are not in the FLOP count.
        var touched = model.named_parameters()
            .Where(p => !p.name.Contains("embeddings", StringComparison.Ordinal) && !p.name.EndsWith("embed_tokens.weight", StringComparison.Ordinal)
                        && !p.name.EndsWith(".wpe.weight", StringComparison.Ordinal))
            .Sum(p => p.parameter.numel());
        return ((steps - WarmupSteps) / watch.Elapsed.TotalSeconds, touched, parameters.Sum(p => p.numel()));
    }

    /// <summary>Times the trainer's steps between two progress reports, leaving out warm-up and the final evaluation.</summary>
    private sealed class StepClock(int from, int to) : ITrainingObserver
    {
        private readonly Stopwatch _watch = new();
        public double StepsPerSecond { get; private set; }

        public bool OnProgress(TrainingProgress progress)
        {
            if (progress.Step == from) _watch.Start();
            if (progress.Step == to)
            {
                _watch.Stop();
                StepsPerSecond = (to - from) / _watch.Elapsed.TotalSeconds;
            }
            return true;
        }

        public void OnCheckpoint(string directory, long step) { }
    }

    /// <summary>Linux's per-process high-water mark of resident memory, which `5` written to clear_refs resets.</summary>
    private static class PeakRss
    {
        public static bool Reset()
        {
            try
            {
                File.WriteAllText("/proc/self/clear_refs", "5");
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        public static long Read()
        {
            try
            {
                foreach (var line in File.ReadLines("/proc/self/status"))
                {
                    if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
                    var kb = long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0]);
                    return kb * 1024;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
            }
            using var process = Process.GetCurrentProcess();
            return process.PeakWorkingSet64;
        }
    }
}
