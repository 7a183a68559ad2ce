using System.CommandLine;
using System.Globalization;
using Orchestrator.Client.Output;
using Orchestrator.Trainer.Benchmarks;
using Orchestrator.Trainer.Models;

namespace Orchestrator.Client.Commands.Local;

/// <summary><c>bench pack</c>: LoRA trial throughput of packs of K trials against the same trials run one at a time, in one run.</summary>
public sealed class BenchPackCommand : OrchestratorCommand
{
    private static readonly Option<string> ModelOption = new("--model")
    {
        Description = "mlp (MNIST, batch 128, LoRA on l1,l2,l3) or transformer-block (batch 10 x 32 tokens, LoRA on q,v). Trials cycle ranks "
                      + string.Join(",", PackBenchmark.Ranks) + " with their own seeds, lrs and dropout.",
        DefaultValueFactory = _ => BuiltInModels.Mlp,
    };

    private static readonly Option<string> KOption = new("--k") { Description = "Pack sizes, comma-separated.", DefaultValueFactory = _ => "1,2,4,8,16" };
    private static readonly Option<int> StepsOption = new("--steps") { Description = "Steps per trial and per pack (the first 3 are warm-up).", DefaultValueFactory = _ => 30 };
    private static readonly Option<int> ThreadsOption = new("--threads") { Description = "Torch threads (default: every core).", DefaultValueFactory = _ => Environment.ProcessorCount };

    public BenchPackCommand() : base("pack", "LoRA trial throughput of packed training (K trials through one frozen base) against the same trials one at a time.")
    {
        Options.Add(ModelOption);
        Options.Add(KOption);
        Options.Add(StepsOption);
        Options.Add(ThreadsOption);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var model = parseResult.GetValue(ModelOption)!;
        if (!PackBenchmark.Models.Contains(model))
            throw new UserInputException($"--model '{model}' has no pack benchmark; use one of {string.Join(", ", PackBenchmark.Models)} " +
                "(a named encoder's classifier head trains in full per trial as modules_to_save, which a pack cannot share).");
        var ks = new List<int>();
        foreach (var part in parseResult.GetValue(KOption)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var k) || k < 1)
                throw new UserInputException($"--k '{part}' is not allowed; use pack sizes of 1 or more, comma-separated (1,2,4,8).");
            ks.Add(k);
        }
        if (ks.Count == 0) throw new UserInputException("--k names no pack size; use e.g. 1,2,4,8.");
        var steps = parseResult.GetValue(StepsOption);
        if (steps <= TrainerBenchmark.WarmupSteps + 1)
            throw new UserInputException($"--steps {steps} is too few; use more than {TrainerBenchmark.WarmupSteps + 1} (the first {TrainerBenchmark.WarmupSteps} are warm-up).");
        var threads = parseResult.GetValue(ThreadsOption);
        if (threads < 1) throw new UserInputException($"--threads {threads} is not allowed; use 1 or more.");

        if (!output.IsJson) output.Line($"timing {steps} steps of {ks.Max()} {model} trials alone, then packs of {string.Join(", ", ks)}, on {threads} thread(s)...");
        var result = await Task.Run(() => PackBenchmark.Run(model, ks, steps, threads, log: output.IsJson ? null : output.Line), cancellationToken);
        if (output.IsJson)
        {
            output.Json(result);
            return ExitCodes.Success;
        }
        string F(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);
        var batchings = result.Rows.SelectMany(r => r.PackedTrialStepsPerSecond.Keys).Distinct().ToList();
        output.Table(
            ["K", "ranks", "alone trial-steps/s", .. batchings.Select(b => $"packed {b}"), "speedup", "cpu-time speedup"],
            result.Rows.Select(r => (IReadOnlyList<string>)
            [
                r.K.ToString(CultureInfo.InvariantCulture), string.Join(",", r.Ranks), F(r.AloneTrialStepsPerSecond),
                .. batchings.Select(b => r.PackedTrialStepsPerSecond.TryGetValue(b, out var v) ? F(v) : "-"),
                $"{r.Speedup.ToString("0.00", CultureInfo.InvariantCulture)}x ({r.BestBatching})",
                $"{r.CpuSpeedup.ToString("0.00", CultureInfo.InvariantCulture)}x",
            ]));
        // Where a trial-step's time goes, alone and packed: what stacking removes (per-operation work) and what it cannot.
        var phaseNames = result.Rows.SelectMany(r => r.PackedPhaseMilliseconds.Keys).Distinct().ToList();
        string Ms(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
        output.Table(
            ["K", .. phaseNames.Select(p => $"{p} ms"), "total ms"],
            result.Rows.Select(r => (IReadOnlyList<string>)
            [
                r.K.ToString(CultureInfo.InvariantCulture),
                .. phaseNames.Select(p => $"{Ms(r.AlonePhaseMilliseconds.GetValueOrDefault(p))} -> {Ms(r.PackedPhaseMilliseconds.GetValueOrDefault(p))}"),
                $"{Ms(r.AlonePhaseMilliseconds.Values.Sum())} -> {Ms(r.PackedPhaseMilliseconds.Values.Sum())}",
            ]));
        output.KeyValues(
        [
            ("phases", $"milliseconds per trial-step, alone -> packed ({batchings[0]}): the mean of the K trials alone against the pack's step / K"),
            ("model", $"{result.Model} on {result.Dataset}, batch {result.BatchSize} per trial, LoRA on {string.Join(",", result.Targets)}"),
            ("measure", "trial-steps per second (median step time): K x pack steps/s against K trials one after another (their alone times summed); same threads, one process"),
            ("cpu-time speedup", "the same ratio per second of this process's CPU time, which other work on a shared machine moves far less than wall time"),
        ]);
        return ExitCodes.Success;
    }
}
