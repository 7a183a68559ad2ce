using System.CommandLine;
using System.Globalization;
using Orchestrator.Client.Output;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;

namespace Orchestrator.Client.Commands.Local;

/// <summary><c>lora</c>: LoRA tools that need no cluster.</summary>
public sealed class LoraCommand : Command
{
    public LoraCommand() : base("lora", "LoRA tools that run locally.")
    {
        Subcommands.Add(new LoraParamsCommand());
    }
}

/// <summary><c>lora params</c>: trainable and total parameters of a model with LoRA on given targets.</summary>
public sealed class LoraParamsCommand : OrchestratorCommand
{
    private static readonly Option<string> ModelOption = new("--model")
    {
        Description = "A built-in model (mlp, transformer-block, llama), a bare layer 'linear:INxOUT' (e.g. linear:512x512), or a Hugging Face folder: an encoder (bert, distilbert, roberta) or a decoder (llama, mistral, qwen2, qwen3, gpt2), counted from its config.json, no weights needed.",
        Required = true,
    };

    private static readonly Option<int> RankOption = new("--rank", "-r") { Description = "LoRA rank r.", DefaultValueFactory = _ => 8 };

    private static readonly Option<string?> TargetsOption = new("--targets")
    {
        Description = "Comma-separated target modules (e.g. q_proj,v_proj) or all-linear; default: the model type's, as in train and sweeps ("
            + string.Join("; ", BuiltInModels.Names.Select(m => $"{m} → {string.Join(",", TrainingOptions.DefaultTargetModules(m) ?? [])}"))
            + "). Ignored for linear:INxOUT.",
    };

    private static readonly Option<string> BiasOption = new("--bias")
    {
        Description = $"Which biases train: {string.Join(", ", ConfigNames<BiasMode>.All)}.",
        DefaultValueFactory = _ => BiasMode.None.ConfigName(),
    };

    private static readonly Option<bool> UseDoraOption = new("--use-dora")
    {
        Description = "DoRA (use_dora): count its trained magnitudes too, one per output feature of each adapted module.",
    };

    private static readonly Option<string?> ModulesToSaveOption = LocalOptions.ModulesToSave();

    public LoraParamsCommand() : base("params", "Count trainable and total parameters of a model with LoRA (PEFT's print_trainable_parameters).")
    {
        Options.Add(ModelOption);
        Options.Add(RankOption);
        Options.Add(TargetsOption);
        Options.Add(BiasOption);
        Options.Add(UseDoraOption);
        Options.Add(ModulesToSaveOption);
        Options.Add(ConsoleOutput.JsonOption);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = ConsoleOutput.Create(parseResult);
        var model = parseResult.GetValue(ModelOption)!;
        var rank = parseResult.GetValue(RankOption);
        var bias = parseResult.GetValue(BiasOption)!;
        var targets = LocalOptions.SplitList(parseResult.GetValue(TargetsOption));
        if (TrainingOptions.Get("rank").CheckInt(rank) is { } rankNeed) throw new UserInputException($"--rank {rank} is not allowed; rank must be {rankNeed}.");
        if (!ConfigNames<BiasMode>.TryParse(bias, out var biasMode))
            throw new UserInputException($"--bias '{bias}' is not allowed; bias must be {TrainingOptions.Get("bias").CheckString(bias)}.");

        ParameterReport report;
        try
        {
            report = ParameterReport.Compute(model, rank, targets, biasMode, parseResult.GetValue(UseDoraOption),
                LocalOptions.SplitList(parseResult.GetValue(ModulesToSaveOption)));
        }
        catch (Exception e) when (e is UnknownModelException or LoraTargetException or ArgumentException or FormatException or InvalidDataException)
        {
            throw new UserInputException(e.Message);
        }

        if (output.IsJson)
        {
            output.Json(report);
            return Task.FromResult(ExitCodes.Success);
        }
        output.KeyValues(
        [
            ("model", report.Model),
            ("rank", report.Rank.ToString(CultureInfo.InvariantCulture)),
            ("bias", report.Bias.ConfigName()),
            ("use_dora", report.UseDora ? "true" : "false"),
            ("adapted modules", string.Join(", ", report.AdaptedModules)),
            .. report.ModulesToSave.Count > 0 ? [("modules to save", string.Join(", ", report.ModulesToSave))] : Array.Empty<(string, string)>(),
            ("lora parameters", ConsoleOutput.Count(report.LoraParameters)),
            ("trainable parameters", ConsoleOutput.Count(report.TrainableParameters)),
            ("total parameters", ConsoleOutput.Count(report.TotalParameters)),
            ("trainable %", report.TrainablePercent.ToString("0.0000", CultureInfo.InvariantCulture)),
        ]);
        output.Line(report.ToText());
        return Task.FromResult(ExitCodes.Success);
    }
}
