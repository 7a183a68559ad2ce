using System.CommandLine;
using System.Globalization;
using Orchestrator.Client.Benchmarks;
using Orchestrator.Client.Output;
using Orchestrator.Models.Sharing;
using Orchestrator.Trainer.Benchmarks;
using Orchestrator.Trainer.Models;
using Orchestrator.Trials.Models.Decoders;
using Orchestrator.Trials.Models.Named;

namespace Orchestrator.Client.Commands.Local;

/// <summary><c>bench trainer</c>: training steps per second of the trainer against a bare TorchSharp loop doing the same math.</summary>
public sealed class BenchTrainerCommand : OrchestratorCommand
{
    private static IReadOnlyList<string> Models => TrainerBenchmark.Models;

    private static readonly Option<string> ModelOption = new("--model")
    {
        Description = "The fixed config to time: mlp (batch 1024, r=8 on l1,l2,l3), transformer-block (batch 10 x 32 tokens, r=8 on q,v), "
                      + $"a named encoder ({string.Join(", ", NamedEncoders.Names)}: IMDB, batch 16 x 128 tokens, r=8 on query,value, beside PyTorch eager), "
                      + "or a Hugging Face decoder folder (llama, mistral, qwen2, qwen3, gpt2: random tokens, batch 4 x 64, r=16 on all linear layers, beside PyTorch eager).",
        DefaultValueFactory = _ => BuiltInModels.Mlp,
    };

    private static readonly Option<bool> NoPytorchOption = new("--no-pytorch") { Description = "For an encoder: skip the PyTorch eager reference." };

    private static readonly Option<int> StepsOption = new("--steps") { Description = "Timed steps (after warm-up).", DefaultValueFactory = _ => 50 };
    private static readonly Option<int> ThreadsOption = new("--threads") { Description = "Torch threads (default: every core).", DefaultValueFactory = _ => Environment.ProcessorCount };

    public BenchTrainerCommand() : base("trainer", "Training steps per second and peak memory of the trainer against a bare TorchSharp loop.")
    {
        Options.Add(ModelOption);
        Options.Add(StepsOption);
        Options.Add(ThreadsOption);
        Options.Add(NoPytorchOption);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var model = parseResult.GetValue(ModelOption)!;
        var decoder = Directory.Exists(model) && DecoderArchitecture.IsDecoderFolder(model);
        if (!Models.Contains(model) && !decoder)
            throw new UserInputException($"--model '{model}' has no benchmark; use one of {string.Join(", ", Models)}, or a decoder folder (llama, mistral, qwen2, qwen3, gpt2).");
        if (decoder && DecoderArchitecture.Of(model) is { } shape && shape.MaxPositions < TrainerBenchmark.DecoderSequenceLength)
            throw new UserInputException($"--model '{model}' has {shape.MaxPositions} positions; the decoder benchmark runs {TrainerBenchmark.DecoderSequenceLength} tokens.");
        var steps = parseResult.GetValue(StepsOption);
        if (steps <= TrainerBenchmark.WarmupSteps + 1)
            throw new UserInputException($"--steps {steps} is too few; use more than {TrainerBenchmark.WarmupSteps + 1} (the first {TrainerBenchmark.WarmupSteps} are warm-up).");
        var threads = parseResult.GetValue(ThreadsOption);
        if (threads < 1) throw new UserInputException($"--threads {threads} is not allowed; use 1 or more.");

        if (!output.IsJson) output.Line($"timing {steps} steps of {model} on {threads} thread(s)...");
        var resources = new NamedResourceFolders();
        var result = await Task.Run(() => TrainerBenchmark.Run(model, steps, threads, resources: resources), cancellationToken);
        if (NamedEncoders.Find(model) is { } encoder && !parseResult.GetValue(NoPytorchOption))
        {
            if (!output.IsJson) output.Line($"timing the same {steps} steps in PyTorch eager ({PytorchReference.Python})...");
            var reference = await PytorchReference.MeasureAsync(resources.ModelFolder(encoder, cancellationToken), result.BatchSize, result.SequenceLength,
                result.Rank, TrainerBenchmark.LoraAlpha, steps, threads, cancellationToken);
            result = result with { PytorchStepsPerSecond = reference.StepsPerSecond, PytorchVersion = reference.Version };
        }
        else if (decoder && !parseResult.GetValue(NoPytorchOption))
        {
            if (!output.IsJson) output.Line($"timing the same {steps} steps in PyTorch eager ({PytorchReference.Python})...");
            var reference = await PytorchReference.MeasureAsync(model, result.BatchSize, result.SequenceLength, result.Rank, TrainerBenchmark.DecoderAlpha,
                steps, threads, cancellationToken, PytorchReference.DecoderScript);
            result = result with { PytorchStepsPerSecond = reference.StepsPerSecond, PytorchVersion = reference.Version };
        }
        if (output.IsJson)
        {
            output.Json(result);
            return ExitCodes.Success;
        }
        string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        output.Table(
            ["loop", "steps/s", "GFLOP/s", "peak RSS"],
            [
                ["trainer", F(result.TrainerStepsPerSecond, "0.00"), F(result.TrainerGflops, "0.00"), ConsoleOutput.Bytes(result.TrainerPeakRssBytes)],
                ["bare TorchSharp", F(result.BareStepsPerSecond, "0.00"), F(result.BareGflops, "0.00"), ConsoleOutput.Bytes(result.BarePeakRssBytes)],
                .. result.PytorchStepsPerSecond is { } torchRate
                    ? new[] { new[] { $"PyTorch {result.PytorchVersion} eager", F(torchRate, "0.00"), F(result.PytorchGflops ?? 0, "0.00"), "-" } }
                    : [],
            ]);
        output.KeyValues(
        [
            ("model", $"{result.Model}, batch {result.BatchSize} ({ConsoleOutput.Count(result.TokensPerStep)} rows/step), r={result.Rank} on {string.Join(",", result.Targets)}"),
            ("trainable parameters", ConsoleOutput.Count(result.TrainableParameters)),
            ("trainer overhead", double.IsNaN(result.OverheadRatio) ? "n/a" : $"{F(100 * (result.OverheadRatio - 1), "0.0")}% slower than the bare loop"),
            .. result.TrainerVsPytorch is { } ratio
                ? new[] { ("trainer vs PyTorch", $"{F(ratio, "0.00")}x PyTorch eager's steps/s") }
                : [],
            ("flops", result.Formula),
        ]);
        return ExitCodes.Success;
    }
}
