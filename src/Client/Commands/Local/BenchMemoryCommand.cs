using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Orchestrator.Client.Output;
using Orchestrator.Trainer.Estimation;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Client.Commands.Local;

/// <summary>
/// <c>bench memory</c>: a few LoRA steps for every combination of base dtype, quantisation (and gradient checkpointing),
/// each in a fresh <c>orchestrator train</c> process (peak resident memory is per process), the measured
/// <c>peak_memory_bytes</c> beside <c>estimate</c>'s prediction for the same config.
/// </summary>
public sealed class BenchMemoryCommand : OrchestratorCommand
{
    private static readonly Option<string> ModelOption = new("--model") { Description = "A Hugging Face decoder folder (or a named model).", Required = true };
    private static readonly Option<string> DatasetOption = new("--dataset") { Description = "The text corpus the steps train on (.jsonl or .txt, or a named dataset).", Required = true };
    private static readonly Option<string> BaseDtypeOption = new("--base-dtype") { Description = $"Base dtypes, comma-separated ({string.Join(", ", ConfigNames<BaseDtype>.All)}).", DefaultValueFactory = _ => BaseDtype.Fp32.ConfigName() };
    private static readonly Option<string> QuantizeOption = new("--quantize") { Description = $"Quantisations, comma-separated ({string.Join(", ", ConfigNames<QuantizeMode>.All)}).", DefaultValueFactory = _ => QuantizeMode.None.ConfigName() };
    private static readonly Option<bool> CheckpointingOption = new("--gradient-checkpointing") { Description = "Also run every combination with gradient checkpointing." };
    private static readonly Option<bool> DoubleQuantOption = new("--double-quant") { Description = "Also run every nf4 combination with its block scales quantised again (double_quant, bitsandbytes' bnb_4bit_use_double_quant)." };
    private static readonly Option<int> RankOption = new("--rank") { Description = "LoRA rank (alpha = 2 x rank).", DefaultValueFactory = _ => 16 };
    private static readonly Option<string> TargetsOption = new("--targets") { Description = "LoRA targets, comma-separated, or all-linear.", DefaultValueFactory = _ => "all-linear" };
    private static readonly Option<int> BatchSizeOption = new("--batch-size") { Description = "Batch size.", DefaultValueFactory = _ => 1 };
    private static readonly Option<int> SeqLenOption = new("--seq-len") { Description = "Tokens per sequence.", DefaultValueFactory = _ => 64 };
    private static readonly Option<int> StepsOption = new("--steps") { Description = "Optimiser steps per combination.", DefaultValueFactory = _ => 2 };
    private static readonly Option<string?> OutOption = new("--out") { Description = "Where each combination's trial folder is kept; default: a temporary folder, removed afterwards." };

    public BenchMemoryCommand() : base("memory", "Peak memory of a few LoRA steps per base dtype / quantisation / checkpointing, each in its own process, beside estimate's prediction.")
    {
        foreach (var option in new Option[] { ModelOption, DatasetOption, BaseDtypeOption, QuantizeOption, CheckpointingOption, DoubleQuantOption, RankOption, TargetsOption,
                     BatchSizeOption, SeqLenOption, StepsOption, OutOption, ConsoleOutput.JsonOption })
            Options.Add(option);
    }

    /// <summary>One combination: its settings, the measured peak (null when the run failed), the estimate, and why it failed.</summary>
    public sealed record Row(
        [property: JsonPropertyName("base_dtype")] string BaseDtype,
        [property: JsonPropertyName("quantize")] string Quantize,
        [property: JsonPropertyName("gradient_checkpointing")] bool GradientCheckpointing,
        [property: JsonPropertyName("double_quant")] bool DoubleQuant,
        [property: JsonPropertyName("peak_memory_bytes")] long? PeakMemoryBytes,
        [property: JsonPropertyName("peak_memory_training_bytes")] long? PeakMemoryTrainingBytes,
        [property: JsonPropertyName("estimate_bytes")] long? EstimateBytes,
        [property: JsonPropertyName("estimate_error")] double? EstimateError,
        [property: JsonPropertyName("problem")] string? Problem);

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var model = parseResult.GetValue(ModelOption)!;
        var dataset = parseResult.GetValue(DatasetOption)!;
        var dtypes = List<BaseDtype>(parseResult.GetValue(BaseDtypeOption)!, "--base-dtype");
        var quantizations = List<QuantizeMode>(parseResult.GetValue(QuantizeOption)!, "--quantize");
        var targets = parseResult.GetValue(TargetsOption)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var rank = parseResult.GetValue(RankOption);
        var steps = parseResult.GetValue(StepsOption);
        if (steps < 1) throw new UserInputException($"--steps {steps} is not allowed; use 1 or more.");
        var checkpointing = parseResult.GetValue(CheckpointingOption) ? new[] { false, true } : [false];
        var doubleQuant = parseResult.GetValue(DoubleQuantOption);
        if (doubleQuant && !quantizations.Contains(QuantizeMode.Nf4))
            throw new UserInputException("--double-quant needs nf4 among --quantize (it quantises NF4's block scales).");

        var configs = new List<TrainingConfig>();
        foreach (var dtype in dtypes)
            foreach (var quantize in quantizations)
                foreach (var ckpt in checkpointing)
                foreach (var dq in quantize == QuantizeMode.Nf4 && doubleQuant ? new[] { false, true } : [false])
                {
                    var config = new TrainingConfig
                    {
                        Model = model, Dataset = dataset, Adapter = AdapterKind.Lora, Rank = rank, Alpha = 2 * rank, TargetModules = targets,
                        BatchSize = parseResult.GetValue(BatchSizeOption), SequenceLength = parseResult.GetValue(SeqLenOption),
                        MaxSteps = steps, EvalEvery = steps,
                        BaseDtype = dtype == BaseDtype.Fp32 ? null : dtype, Quantize = quantize == QuantizeMode.None ? null : quantize,
                        GradientCheckpointing = ckpt, DoubleQuant = dq,
                    };
                    try
                    {
                        configs.Add(config.Validate());
                    }
                    catch (InvalidTrainingConfigException e)
                    {
                        throw new UserInputException($"bench memory cannot run {RowName(config)}: {e.Message}");
                    }
                }

        var keep = parseResult.GetValue(OutOption);
        var root = keep ?? Path.Combine(Path.GetTempPath(), $"orchestrator-bench-memory-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        var rows = new List<Row>();
        try
        {
            foreach (var config in configs)
            {
                var name = RowName(config);
                if (!output.IsJson) output.Line($"training {steps} step(s) with {name} in its own process...");
                rows.Add(await Task.Run(() => Measure(config, Path.Combine(root, name), cancellationToken), cancellationToken));
            }
        }
        finally
        {
            if (keep is null) Directory.Delete(root, recursive: true);
        }

        if (output.IsJson)
        {
            output.Json(new { model, dataset, rank, targets, batch_size = configs[0].BatchSize, seq_len = configs[0].SequenceLength, steps, rows });
            return rows.All(r => r.PeakMemoryBytes is not null) ? ExitCodes.Success : ExitCodes.Failed;
        }
        output.Table(["base_dtype", "quantize", "double quant", "checkpointing", "peak (measured)", "after loading", "estimate", "estimate error"],
            rows.Select(r => (IReadOnlyList<string>)
            [
                r.BaseDtype, r.Quantize, r.DoubleQuant ? "yes" : "no", r.GradientCheckpointing ? "yes" : "no",
                r.PeakMemoryBytes is { } p ? ConsoleOutput.Bytes(p) : "failed", r.PeakMemoryTrainingBytes is { } t ? ConsoleOutput.Bytes(t) : "-",
                r.EstimateBytes is { } e ? ConsoleOutput.Bytes(e) : "-",
                r.EstimateError is { } err ? err.ToString("+0.0%;-0.0%", CultureInfo.InvariantCulture) : "-",
            ]));
        if (rows.FirstOrDefault(r => r.PeakMemoryBytes is { } && r.BaseDtype == BaseDtype.Fp32.ConfigName() && r.Quantize == QuantizeMode.None.ConfigName() && !r.GradientCheckpointing && !r.DoubleQuant) is { PeakMemoryBytes: { } fp32 })
            output.KeyValues(rows.Where(r => r.PeakMemoryBytes is not null).Select(r =>
                (RowName(r), $"{(double)r.PeakMemoryBytes!.Value / fp32:0.00} x fp32")), "peak against fp32");
        foreach (var r in rows.Where(r => r.Problem is not null))
            output.Warning($"{RowName(r)}: {r.Problem}");
        output.Line("peak: the trial process's peak resident memory over its baseline before loading (peak_memory_bytes); "
                    + "after loading: the peak once the base was loaded and prepared; estimate: orchestrator estimate for the same config.");
        return rows.All(r => r.PeakMemoryBytes is not null) ? ExitCodes.Success : ExitCodes.Failed;
    }

    private static IReadOnlyList<T> List<T>(string text, string option) where T : struct, Enum
    {
        var allowed = ConfigNames<T>.All;
        var values = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(v => v.ToLowerInvariant()).Distinct().ToList();
        if (values.Count == 0) throw new UserInputException($"{option} names nothing; use one or more of {string.Join(", ", allowed)}, comma-separated.");
        foreach (var value in values)
            if (!allowed.Contains(value)) throw new UserInputException($"{option} '{value}' is not allowed; use {string.Join(", ", allowed)}.");
        return values.Select(v => ConfigNames<T>.TryParse(v, out var value) ? value : throw new UserInputException($"{option} '{v}' is not allowed")).ToList();
    }

    private static string RowName(TrainingConfig c) => RowName((c.BaseDtype ?? BaseDtype.Fp32).ConfigName(), (c.Quantize ?? QuantizeMode.None).ConfigName(), c.GradientCheckpointing, c.DoubleQuant);

    private static string RowName(Row r) => RowName(r.BaseDtype, r.Quantize, r.GradientCheckpointing, r.DoubleQuant);

    private static string RowName(string dtype, string quantize, bool checkpointing, bool doubleQuant) =>
        $"{dtype}-{quantize}{(doubleQuant ? "-double-quant" : "")}{(checkpointing ? "-checkpointing" : "")}";

    /// <summary>Runs one combination as `orchestrator train` in a child process and reads its result.json.</summary>
    private static Row Measure(TrainingConfig config, string folder, CancellationToken cancellationToken)
    {
        long? estimate = null;
        string? problem = null;
        try
        {
            estimate = TrialMemoryEstimator.Estimate(config).TotalBytes;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or InvalidDataException)
        {
            problem = $"no estimate: {e.Message}";
        }
        var (peak, training, failure) = RunTrain(config, folder, cancellationToken);
        problem = failure ?? problem;
        double? error = peak is { } p && estimate is { } e2 && p > 0 ? (double)(e2 - p) / p : null;
        return new Row((config.BaseDtype ?? BaseDtype.Fp32).ConfigName(), (config.Quantize ?? QuantizeMode.None).ConfigName(), config.GradientCheckpointing, config.DoubleQuant, peak, training, estimate, error, problem);
    }

    private static (long? Peak, long? Training, string? Problem) RunTrain(TrainingConfig config, string folder, CancellationToken cancellationToken)
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        var start = SelfStart();
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        string[] args =
        [
            "train", "--model", config.Model, "--dataset", config.Dataset, "--adapter", AdapterKind.Lora.ConfigName(),
            "--rank", config.Rank.ToString(CultureInfo.InvariantCulture), "--alpha", config.Alpha.ToString(CultureInfo.InvariantCulture),
            "--target-modules", string.Join(",", config.TargetModules),
            "--batch-size", config.BatchSize.ToString(CultureInfo.InvariantCulture), "--seq-len", config.SequenceLength.ToString(CultureInfo.InvariantCulture),
            "--max-steps", config.MaxSteps.ToString(CultureInfo.InvariantCulture), "--eval-every", config.EvalEvery.ToString(CultureInfo.InvariantCulture),
            "--base-dtype", (config.BaseDtype ?? BaseDtype.Fp32).ConfigName(), "--quantize", (config.Quantize ?? QuantizeMode.None).ConfigName(),
            "--out", folder,
        ];
        foreach (var a in args) start.ArgumentList.Add(a);
        if (config.GradientCheckpointing) start.ArgumentList.Add("--gradient-checkpointing");
        if (config.DoubleQuant) start.ArgumentList.Add("--double-quant");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start orchestrator train");
        using var cancel = cancellationToken.Register(() => { try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } });
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var resultPath = Path.Combine(folder, "result.json");
        if (process.ExitCode != 0 || !File.Exists(resultPath))
        {
            var lines = (stderr.Result + "\n" + stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return (null, null, $"orchestrator train exited {process.ExitCode}: {lines.FirstOrDefault(l => l.StartsWith("error", StringComparison.OrdinalIgnoreCase)) ?? lines.LastOrDefault() ?? "no output"}");
        }
        using var result = JsonDocument.Parse(File.ReadAllText(resultPath));
        long? Read(string key) => result.RootElement.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;
        var peak = Read("peak_memory_bytes");
        return (peak, Read("peak_memory_training_bytes"), peak is null ? "result.json has no peak_memory_bytes (peak memory is measured on Linux only)" : null);
    }

    /// <summary>This CLI again: its apphost, or `dotnet orchestrator.dll` when run through the dotnet host.</summary>
    private static ProcessStartInfo SelfStart()
    {
        var host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host);
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            start.ArgumentList.Add(Assembly.GetEntryAssembly()?.Location ?? throw new InvalidOperationException("cannot find the orchestrator assembly to run"));
        return start;
    }
}
