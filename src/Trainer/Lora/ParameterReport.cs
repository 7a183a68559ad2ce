using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Orchestrator.Trainer.Configuration;
using Orchestrator.Trainer.Models;

namespace Orchestrator.Trainer.Lora;

/// <summary>
/// Trainable and total parameters of a model with LoRA on the given targets: the logic of
/// <c>lora params --model M --rank R --targets a,b [--bias none|all|lora_only] [--json]</c>.
/// </summary>
public sealed record ParameterReport(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("rank")] int Rank,
    [property: JsonPropertyName("targets")] IReadOnlyList<string> Targets,
    [property: JsonPropertyName("bias")] string Bias,
    [property: JsonPropertyName("adapted_modules")] IReadOnlyList<string> AdaptedModules,
    [property: JsonPropertyName("trainable_params")] long TrainableParameters,
    [property: JsonPropertyName("total_params")] long TotalParameters)
{
    [JsonPropertyName("trainable_percent")]
    public double TrainablePercent => TotalParameters == 0 ? 0 : 100.0 * TrainableParameters / TotalParameters;

    /// <summary>
    /// Builds <paramref name="model"/> (a built-in name or <c>linear:INxOUT</c>), injects LoRA and counts. A bare
    /// linear layer is adapted whatever the targets say; for built-ins an empty target list means the model type's
    /// default, as in training (<see cref="TrainingOptions.DefaultTargetModules"/>).
    /// </summary>
    public static ParameterReport Compute(string model, int rank, IReadOnlyList<string> targets, string bias = BiasModes.None)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(targets);
        var isBareLayer = LinearModel.ParseName(model) is not null;
        IReadOnlyList<string> effectiveTargets = isBareLayer ? [LinearModel.ModulePath]
            : targets.Count == 0 ? TrainingOptions.DefaultTargetModules(model) ?? []
            : targets;

        var config = new TrainingConfig { Model = model, Rank = rank, Alpha = rank, TargetModules = effectiveTargets, Bias = bias };
        using var built = ModelCatalog.Create(model, seed: 0);
        var injection = LoraInjector.Inject(built, config, seed: 0);
        return new ParameterReport(model, rank, effectiveTargets, bias, injection.Modules.Select(m => m.Path).ToList(),
            injection.TrainableParameters, injection.TotalParameters);
    }

    /// <summary>PEFT's print_trainable_parameters line.</summary>
    public string ToText() => string.Create(CultureInfo.InvariantCulture,
        $"trainable params: {TrainableParameters:N0} || all params: {TotalParameters:N0} || trainable%: {TrainablePercent:0.0000}");

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };
}
