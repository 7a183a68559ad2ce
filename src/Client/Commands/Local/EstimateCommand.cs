using Orchestrator.Trainer.Estimation;
using System.CommandLine;
using System.Globalization;
using Orchestrator.Client.Output;
using Orchestrator.Sweeps;
using Orchestrator.Trials.Estimation;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Models.Decoders;

namespace Orchestrator.Client.Commands.Local;

/// <summary>
/// <c>estimate</c>: training memory (weights, gradients, AdamW state, activations) of a model size with LoRA against
/// full fine-tuning, or of every trial of a sweep, and how many fit on a GPU.
/// </summary>
public sealed class EstimateCommand : OrchestratorCommand
{
    private static readonly Argument<string?> SweepArgument = new("sweep")
    {
        Description = "A sweep file: estimate every trial it expands to. Omit it to estimate a model size with --params.",
        Arity = ArgumentArity.ZeroOrOne,
    };

    private static readonly Option<string?> ParamsOption = new("--params") { Description = "Model size of a Llama-like model: 7B, 1.5B, 700M." };
    private static readonly Option<string?> ModelOption = new("--model")
    {
        Description = "A Hugging Face decoder folder (llama, mistral, qwen2, qwen3, gpt2): its exact shape from config.json, no weights needed (instead of --params).",
    };
    private static readonly Option<int> RankOption = new("--rank", "-r") { Description = "LoRA rank (with --params or --model).", DefaultValueFactory = _ => 16 };
    private static readonly Option<string?> ModulesToSaveOption = LocalOptions.ModulesToSave();
    private static readonly Option<string?> TargetsOption = new("--targets") { Description = "Target projections (with --params or --model); default q_proj,v_proj (--model: its model type's PEFT default)." };
    private static readonly Option<string?> DTypeOption = new("--dtype") { Description = $"Weight dtype: {string.Join(", ", MemoryEstimator.DTypes)}; default bf16 with --params, fp32 for a sweep (what the trainer uses)." };
    private static readonly Option<int> BatchSizeOption = new("--batch-size") { Description = "Sequences per step (with --params).", DefaultValueFactory = _ => 1 };
    private static readonly Option<int> SequenceLengthOption = new("--seq-len") { Description = "Tokens per sequence (with --params).", DefaultValueFactory = _ => 512 };
    private static readonly Option<string?> BaseDtypeOption = new("--base-dtype")
    {
        Description = $"With --model: the frozen base's dtype as a trial's base_dtype ({string.Join(", ", ConfigNames<BaseDtype>.All)}); the estimate is then this trainer's peak as bench memory measures it.",
    };
    private static readonly Option<string?> QuantizeOption = new("--quantize") { Description = $"With --model: the frozen base quantised as a trial's quantize ({string.Join(", ", ConfigNames<QuantizeMode>.All)})." };
    private static readonly Option<bool> DoubleQuantOption = new("--double-quant") { Description = "With --model and --quantize nf4: the NF4 block scales quantised again (double_quant)." };
    private static readonly Option<bool> CheckpointingOption = new("--gradient-checkpointing") { Description = "With --model: activations recomputed in the backward (gradient_checkpointing)." };
    private static readonly Option<string> GpuMemoryOption = new("--gpu-memory") { Description = "Memory of one GPU: 80GB, 24GB, 128GB (GB read as GiB).", DefaultValueFactory = _ => "80GB" };

    public EstimateCommand() : base("estimate", "Estimate training memory per trial and how many trials fit on a GPU.")
    {
        Arguments.Add(SweepArgument);
        foreach (var option in new Option[] { ParamsOption, ModelOption, RankOption, TargetsOption, ModulesToSaveOption, DTypeOption, BaseDtypeOption, QuantizeOption, DoubleQuantOption,
                     CheckpointingOption, BatchSizeOption, SequenceLengthOption, GpuMemoryOption, ConsoleOutput.JsonOption })
            Options.Add(option);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var sweep = parseResult.GetValue(SweepArgument);
        var size = parseResult.GetValue(ParamsOption);
        var gpuText = parseResult.GetValue(GpuMemoryOption)!;
        var gpu = LocalOptions.ParseMemory(gpuText, "--gpu-memory");
        var dtype = parseResult.GetValue(DTypeOption);
        if (dtype is not null && !MemoryEstimator.DTypes.Contains(dtype.ToLowerInvariant()))
            throw new UserInputException($"--dtype '{dtype}' is not allowed; use one of {string.Join(", ", MemoryEstimator.DTypes)}.");

        var model = parseResult.GetValue(ModelOption);
        if (new[] { sweep, size, model }.Count(given => given is not null) > 1)
            throw new UserInputException("give one of a sweep file, --params or --model.", ExitCodes.UsageError);
        var memory = MemoryOptions(parseResult);
        if (memory is not null && model is null)
            throw new UserInputException("--base-dtype, --quantize, --double-quant and --gradient-checkpointing go with --model (a sweep's trials say their own).", ExitCodes.UsageError);
        if (memory is not null && dtype is not null && dtype.ToLowerInvariant() != MemoryEstimator.Fp32)
            throw new UserInputException($"--dtype {dtype} with --base-dtype/--quantize: those estimate this trainer's peak, which trains in fp32 with the base as they say; leave out --dtype.", ExitCodes.UsageError);
        if (model is not null)
            return Task.FromResult(ForModel(output, parseResult, model, memory is not null ? MemoryEstimator.Fp32 : dtype?.ToLowerInvariant() ?? MemoryEstimator.Bf16, gpu, gpuText, memory));
        if (sweep is not null) return Task.FromResult(ForSweep(output, sweep, dtype?.ToLowerInvariant() ?? MemoryEstimator.Fp32, gpu, gpuText));
        if (size is null) throw new UserInputException("give a sweep file (estimate SWEEP.yaml) or a model size (estimate --params 7B --rank 16).", ExitCodes.UsageError);
        return Task.FromResult(ForSize(output, parseResult, size, dtype?.ToLowerInvariant() ?? MemoryEstimator.Bf16, gpu, gpuText));
    }

    private static int ForSize(ConsoleOutput output, ParseResult parseResult, string size, string dtype, long gpu, string gpuText)
    {
        double billions;
        try { billions = MemoryEstimator.ParseBillions(size); }
        catch (FormatException e) { throw new UserInputException($"--params: {e.Message}"); }
        var rank = parseResult.GetValue(RankOption);
        if (rank < 1) throw new UserInputException($"--rank {rank} is not allowed; the rank must be a positive integer (e.g. 16).");
        var batch = parseResult.GetValue(BatchSizeOption);
        if (batch < 1) throw new UserInputException($"--batch-size {batch} is not allowed; use 1 or more.");
        var sequence = parseResult.GetValue(SequenceLengthOption);
        if (sequence < 1) throw new UserInputException($"--seq-len {sequence} is not allowed; use 1 or more.");
        var targets = LocalOptions.SplitList(parseResult.GetValue(TargetsOption));
        ParameterSizeEstimate estimate;
        try
        {
            estimate = MemoryEstimator.EstimateForParameters(billions, rank, dtype, batch, sequence, targets.Count == 0 ? null : targets);
        }
        catch (ArgumentException e)
        {
            throw new UserInputException(e.Message);
        }

        var loraFits = (int)Math.Min(int.MaxValue, gpu / Math.Max(1, estimate.Lora.TotalBytes));
        var fullFits = (int)Math.Min(int.MaxValue, gpu / Math.Max(1, estimate.FullFineTuning.TotalBytes));
        if (output.IsJson)
        {
            output.Json(new
            {
                Billions = billions,
                Shape = estimate.Shape.Name,
                Rank = rank,
                Targets = targets.Count == 0 ? MemoryEstimator.DefaultLlamaTargets : targets,
                DType = dtype,
                BatchSize = batch,
                SequenceLength = sequence,
                estimate.TotalParameters,
                estimate.LoraParameters,
                Lora = Breakdown(estimate.Lora),
                FullFineTuning = Breakdown(estimate.FullFineTuning),
                estimate.Savings,
                GpuMemoryBytes = gpu,
                LoraTrialsPerGpu = loraFits,
                FullTrialsPerGpu = fullFits,
            });
            return ExitCodes.Success;
        }
        output.Heading(string.Create(CultureInfo.InvariantCulture,
            $"{billions:0.###}B parameters ({estimate.Shape.Name} shape), LoRA r={rank} on {string.Join(",", targets.Count == 0 ? MemoryEstimator.DefaultLlamaTargets : targets)}, {dtype}, batch {batch} x {sequence} tokens"));
        output.Table(
            ["", "weights", "gradients", "optimizer", "activations", "total", $"fit on {gpuText}"],
            [
                Row("LoRA", estimate.Lora, loraFits),
                Row("full fine-tuning", estimate.FullFineTuning, fullFits),
            ]);
        output.KeyValues(
        [
            ("LoRA parameters", $"{ConsoleOutput.Count(estimate.LoraParameters)} ({100.0 * estimate.LoraParameters / estimate.TotalParameters:0.###}% of {ConsoleOutput.Count(estimate.TotalParameters)})"),
            ("memory saved by LoRA", string.Create(CultureInfo.InvariantCulture, $"{100 * estimate.Savings:0.0}%")),
        ]);
        return ExitCodes.Success;
    }

    /// <summary>A decoder folder's own shape (config.json), LoRA against full fine-tuning, as <see cref="ForSize"/> for a size.</summary>
    /// <summary>The base's form (base_dtype, quantize, double_quant, gradient_checkpointing) when any is given; null otherwise.</summary>
    private static Func<TrainingConfig, TrainingConfig>? MemoryOptions(ParseResult parseResult)
    {
        var baseDtypeText = parseResult.GetValue(BaseDtypeOption);
        var quantizeText = parseResult.GetValue(QuantizeOption);
        var doubleQuant = parseResult.GetValue(DoubleQuantOption);
        var checkpointing = parseResult.GetValue(CheckpointingOption);
        if (baseDtypeText is null && quantizeText is null && !doubleQuant && !checkpointing) return null;
        BaseDtype? baseDtype = null;
        QuantizeMode? quantize = null;
        if (baseDtypeText is not null)
            baseDtype = ConfigNames<BaseDtype>.TryParse(baseDtypeText.ToLowerInvariant(), out var d) ? d
                : throw new UserInputException($"--base-dtype '{baseDtypeText}' is not allowed; use one of {string.Join(", ", ConfigNames<BaseDtype>.All)}.");
        if (quantizeText is not null)
            quantize = ConfigNames<QuantizeMode>.TryParse(quantizeText.ToLowerInvariant(), out var q) ? q
                : throw new UserInputException($"--quantize '{quantizeText}' is not allowed; use one of {string.Join(", ", ConfigNames<QuantizeMode>.All)}.");
        if (doubleQuant && quantize != QuantizeMode.Nf4) throw new UserInputException("--double-quant needs --quantize nf4 (it quantises NF4's block scales).");
        return config => config with
        {
            BaseDtype = baseDtype == BaseDtype.Fp32 ? null : baseDtype,
            Quantize = quantize == QuantizeMode.None ? null : quantize,
            DoubleQuant = doubleQuant,
            GradientCheckpointing = checkpointing,
        };
    }

    /// <summary>"base nf4 (double quant), fp32 training, gradient checkpointing": the base's form in words.</summary>
    private static string BaseForm(TrainingConfig c) =>
        $"base {(c.Quantize is { } q ? q.ConfigName() + (c.DoubleQuant ? " (double quant)" : "") : (c.BaseDtype ?? BaseDtype.Fp32).ConfigName())}, fp32 training"
        + (c.GradientCheckpointing ? ", gradient checkpointing" : "");

    private static int ForModel(ConsoleOutput output, ParseResult parseResult, string model, string dtype, long gpu, string gpuText,
        Func<TrainingConfig, TrainingConfig>? memory)
    {
        if (!Directory.Exists(model)) throw new UserInputException($"--model '{model}' is not a folder.", ExitCodes.NotFound);
        var rank = parseResult.GetValue(RankOption);
        if (rank < 1) throw new UserInputException($"--rank {rank} is not allowed; the rank must be a positive integer (e.g. 16).");
        var batch = parseResult.GetValue(BatchSizeOption);
        if (batch < 1) throw new UserInputException($"--batch-size {batch} is not allowed; use 1 or more.");
        var sequence = parseResult.GetValue(SequenceLengthOption);
        if (sequence < 1) throw new UserInputException($"--seq-len {sequence} is not allowed; use 1 or more.");
        var targets = LocalOptions.SplitList(parseResult.GetValue(TargetsOption));
        DecoderArchitecture decoder;
        ParameterReport lora;
        MemoryEstimate loraMemory, fullMemory;
        string baseForm;
        try
        {
            decoder = DecoderArchitecture.Load(model);
            if (sequence > decoder.MaxPositions)
                throw new ArgumentException($"--seq-len {sequence} is beyond the {decoder.MaxPositions} positions of {model} ({decoder.ModelType})");
            var saved = LocalOptions.SplitList(parseResult.GetValue(ModulesToSaveOption));
            lora = ParameterReport.ForDecoder(model, decoder, rank, targets, modulesToSave: saved);
            var config = new TrainingConfig
            {
                Model = model, Rank = rank, Alpha = rank, TargetModules = lora.Targets, BatchSize = batch, SequenceLength = sequence,
                ModulesToSave = saved.Count > 0 ? saved : null,
            };
            if (memory is not null) config = memory(config);
            loraMemory = TrialMemoryEstimator.Estimate(config, dtype);
            // Full fine-tuning trains the base itself: in fp32, never half or quantised (the trainer refuses those).
            fullMemory = TrialMemoryEstimator.Estimate(config with { Adapter = AdapterKind.Full, BaseDtype = null, Quantize = null, DoubleQuant = false }, dtype);
            baseForm = memory is null ? dtype : BaseForm(config);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or LoraTargetException or FileNotFoundException)
        {
            throw new UserInputException(e.Message, ExitCodes.InvalidInput);
        }
        var loraFits = (int)Math.Min(int.MaxValue, gpu / Math.Max(1, loraMemory.TotalBytes));
        var fullFits = (int)Math.Min(int.MaxValue, gpu / Math.Max(1, fullMemory.TotalBytes));
        if (output.IsJson)
        {
            output.Json(new
            {
                Model = model,
                decoder.ModelType,
                Rank = rank,
                lora.Targets,
                DType = dtype,
                Base = baseForm,
                BatchSize = batch,
                SequenceLength = sequence,
                TotalParameters = decoder.ParameterCount,
                lora.LoraParameters,
                Lora = Breakdown(loraMemory),
                FullFineTuning = Breakdown(fullMemory),
                Savings = 1 - (double)loraMemory.TotalBytes / fullMemory.TotalBytes,
                GpuMemoryBytes = gpu,
                LoraTrialsPerGpu = loraFits,
                FullTrialsPerGpu = fullFits,
            });
            return ExitCodes.Success;
        }
        output.Heading(string.Create(CultureInfo.InvariantCulture,
            $"{model} ({decoder.ModelType}, {ConsoleOutput.Count(decoder.ParameterCount)} parameters), LoRA r={rank} on {string.Join(",", lora.Targets)}, {baseForm}, batch {batch} x {sequence} tokens"));
        output.Table(
            ["", "weights", "gradients", "optimizer", "activations", "total", $"fit on {gpuText}"],
            [Row("LoRA", loraMemory, loraFits), Row("full fine-tuning", fullMemory, fullFits)]);
        output.KeyValues(
        [
            ("LoRA parameters", $"{ConsoleOutput.Count(lora.LoraParameters)} ({100.0 * lora.LoraParameters / decoder.ParameterCount:0.###}% of {ConsoleOutput.Count(decoder.ParameterCount)})"),
            ("memory saved by LoRA", string.Create(CultureInfo.InvariantCulture, $"{100 * (1 - (double)loraMemory.TotalBytes / fullMemory.TotalBytes):0.0}%")),
        ]);
        return ExitCodes.Success;
    }

    private static int ForSweep(ConsoleOutput output, string path, string dtype, long gpu, string gpuText)
    {
        IReadOnlyList<TrialPlan> trials;
        try
        {
            trials = SweepExpander.Expand(SweepFile.Load(path));
        }
        catch (SweepValidationException e)
        {
            foreach (var problem in e.Problems) Console.Error.WriteLine(problem.ToString());
            throw new UserInputException($"{path}: {e.Problems.Count} problem(s); run './orchestrator validate {path}' for details.");
        }

        // A trial the estimator cannot size (e.g. a model it cannot build) is reported, not fatal: the others still fit or not.
        var rows = new List<(TrialPlan Trial, MemoryEstimate? Estimate, string? Problem)>();
        foreach (var trial in trials)
        {
            try
            {
                rows.Add((trial, TrialMemoryEstimator.Estimate(trial.Config, dtype), null));
            }
            catch (Exception e) when (e is UnknownModelException or LoraTargetException or ArgumentException or FileNotFoundException
                                          or DirectoryNotFoundException or NotSupportedException or InvalidOperationException)
            {
                rows.Add((trial, null, e.Message));
            }
        }
        var sized = rows.Where(r => r.Estimate is not null).Select(r => (r.Trial, Estimate: r.Estimate!)).ToList();
        int Fits(MemoryEstimate m) => (int)Math.Min(int.MaxValue, gpu / Math.Max(1, m.TotalBytes));

        if (output.IsJson)
        {
            output.Json(new
            {
                File = path,
                DType = dtype,
                GpuMemoryBytes = gpu,
                Trials = rows.Select(r => new
                {
                    r.Trial.TrialId,
                    r.Trial.Kind,
                    r.Trial.Parameters,
                    Memory = r.Estimate is null ? null : Breakdown(r.Estimate),
                    TrialsPerGpu = r.Estimate is null ? (int?)null : Fits(r.Estimate),
                    r.Problem,
                }),
                LargestTrialBytes = sized.Count == 0 ? 0 : sized.Max(r => r.Estimate.TotalBytes),
            });
        }
        else
        {
            var keys = rows.SelectMany(r => r.Trial.Parameters.Keys).Distinct().Where(k => k != "seed").ToList();
            output.Table(
                ["trial", "kind", .. keys, "weights", "gradients", "optimizer", "activations", "runtime", "total", $"fit on {gpuText}"],
                rows.Select(r => (IReadOnlyList<string>)
                [
                    r.Trial.TrialId, r.Trial.Kind.Name(), .. keys.Select(k => r.Trial.Parameters.TryGetValue(k, out var v) ? v.ToString() : "-"),
                    .. r.Estimate is { } m
                        ? new[]
                        {
                            ConsoleOutput.Bytes(m.WeightsBytes), ConsoleOutput.Bytes(m.GradientBytes), ConsoleOutput.Bytes(m.OptimizerBytes),
                            ConsoleOutput.Bytes(m.ActivationBytes), ConsoleOutput.Bytes(m.RuntimeBytes), ConsoleOutput.Bytes(m.TotalBytes),
                            Fits(m).ToString("N0", CultureInfo.InvariantCulture),
                        }
                        : ["-", "-", "-", "-", "-", "-", "-"],
                ]));
            if (sized.Count > 0)
            {
                var largest = sized.MaxBy(r => r.Estimate.TotalBytes);
                output.Line($"{rows.Count} trials, {dtype}; the largest ({largest.Trial.TrialId}) needs {ConsoleOutput.Bytes(largest.Estimate.TotalBytes)}: {Fits(largest.Estimate):N0} at a time fit on one {gpuText} GPU.");
            }
        }
        foreach (var problem in rows.Where(r => r.Problem is not null).GroupBy(r => r.Problem!))
            output.Warning($"no estimate for {problem.Count()} trial(s) ({string.Join(", ", problem.Take(3).Select(r => r.Trial.TrialId))}{(problem.Count() > 3 ? ", ..." : "")}): {problem.Key}");
        return sized.Count > 0 || rows.Count == 0 ? ExitCodes.Success : ExitCodes.InvalidInput;
    }

    private static object Breakdown(MemoryEstimate m) => new
    {
        m.WeightsBytes,
        m.GradientBytes,
        m.OptimizerBytes,
        m.ActivationBytes,
        m.RuntimeBytes,
        m.TotalBytes,
        m.TotalGiB,
    };

    private static IReadOnlyList<string> Row(string name, MemoryEstimate m, int fits) =>
    [
        name, ConsoleOutput.Bytes(m.WeightsBytes), ConsoleOutput.Bytes(m.GradientBytes), ConsoleOutput.Bytes(m.OptimizerBytes),
        ConsoleOutput.Bytes(m.ActivationBytes), ConsoleOutput.Bytes(m.TotalBytes), fits == 0 ? "no" : $"yes ({fits:N0})",
    ];
}
