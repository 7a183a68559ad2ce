using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Models;
using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trainer.Models.HuggingFace;
using Orchestrator.Trials.Models.Named;
using Orchestrator.Trials.Models.Decoders;

namespace Orchestrator.Trainer.Lora;

/// <summary>
/// Trainable and total parameters of a model with LoRA on the given targets: the logic of
/// <c>lora params --model M --rank R --targets a,b [--bias none|all|lora_only] [--use-dora] [--json]</c>.
/// </summary>
public sealed record ParameterReport(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("rank")] int Rank,
    [property: JsonPropertyName("targets")] IReadOnlyList<string> Targets,
    [property: JsonPropertyName("bias"), JsonConverter(typeof(ConfigEnumConverter<BiasMode>))] BiasMode Bias,
    [property: JsonPropertyName("adapted_modules")] IReadOnlyList<string> AdaptedModules,
    [property: JsonPropertyName("trainable_params")] long TrainableParameters,
    [property: JsonPropertyName("total_params")] long TotalParameters)
{
    /// <summary>What the adapters add: r·(in + out) per adapted module, plus out with DoRA (its magnitudes); trainable also counts biases and a classifier's head.</summary>
    [JsonPropertyName("lora_params")] public long LoraParameters { get; init; }

    /// <summary>The full paths of the modules that train in full beside the adapter (a decoder's modules_to_save); empty when none.</summary>
    [JsonPropertyName("modules_to_save")] public IReadOnlyList<string> ModulesToSave { get; init; } = [];

    /// <summary>DoRA: each adapted module also trains a magnitude per output feature.</summary>
    [JsonPropertyName("use_dora")] public bool UseDora { get; init; }

    [JsonPropertyName("trainable_percent")]
    public double TrainablePercent => TotalParameters == 0 ? 0 : 100.0 * TrainableParameters / TotalParameters;

    /// <summary>
    /// Builds <paramref name="model"/> (a built-in name or <c>linear:INxOUT</c>), injects LoRA and counts. A bare
    /// linear layer is adapted whatever the targets say; for built-ins an empty target list means the model type's
    /// default, as in training (<see cref="TrainingOptions.DefaultTargetModules"/>). A Hugging Face encoder folder
    /// is counted from its config.json alone (<see cref="ForEncoder"/>), and so is a decoder folder or a named decoder
    /// (<see cref="ForDecoder"/>, with its modules_to_save).
    /// </summary>
    public static ParameterReport Compute(string model, int rank, IReadOnlyList<string> targets, BiasMode bias = BiasMode.None, bool useDora = false,
        IReadOnlyList<string>? modulesToSave = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(targets);
        var saved = modulesToSave ?? [];
        if (NamedDecoders.Find(model) is { } named)
            return ForDecoder(named.Name, DecoderArchitecture.FromLlama(named.Config), rank, targets, bias, saved);
        if (Directory.Exists(model) && File.Exists(Path.Combine(model, DecoderArchitecture.ConfigFileName)) && EncoderConfig.Of(model) is null)
        {
            DecoderArchitecture decoder;
            try { decoder = DecoderArchitecture.Load(model); }
            catch (InvalidDataException e) { throw new ArgumentException(e.Message, nameof(model), e); }
            return ForDecoder(model, decoder, rank, targets, bias, saved);
        }
        if (saved.Count > 0)
            throw new ArgumentException($"modules_to_save is counted for decoders (Hugging Face decoder folders, imdb-llama); model '{model}' is not one (an encoder's classifier head is counted already)");
        if (EncoderConfig.Of(model) is { } encoder)
            return ForEncoder(NamedEncoders.Find(model)?.Name ?? model, encoder, rank, targets, bias, useDora);
        var isBareLayer = LinearModelName.Parse(model) is not null;
        IReadOnlyList<string> effectiveTargets = isBareLayer ? [LinearModelName.ModulePath]
            : targets.Count == 0 ? TrainingOptions.DefaultTargetModules(model) ?? []
            : targets;

        var config = new TrainingConfig { Model = model, Rank = rank, Alpha = rank, TargetModules = effectiveTargets, Bias = bias, UseDora = useDora };
        using var built = ModelCatalog.Create(model, seed: 0);
        var injection = LoraInjector.Inject(built, config, seed: 0);
        return new ParameterReport(model, rank, effectiveTargets, bias, injection.Modules.Select(m => m.Path).ToList(),
            injection.TrainableParameters, injection.TotalParameters)
        {
            LoraParameters = injection.Modules.Sum(m => m.Layer.LoraA.numel() + m.Layer.LoraB.numel() + (m.Layer.MagnitudeVector?.numel() ?? 0)),
            UseDora = useDora,
        };
    }

    /// <summary>
    /// An encoder's sequence classifier with LoRA, counted from its config (no weights): the head (modules_to_save,
    /// config num_labels or 2) trains in full and is never a target; every linear layer has a bias.
    /// </summary>
    public static ParameterReport ForEncoder(string model, EncoderConfig encoder, int rank, IReadOnlyList<string> targets, BiasMode bias = BiasMode.None, bool useDora = false)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        var labels = encoder.NumLabels ?? 2;
        var linears = encoder.LinearModules(labels);
        var head = encoder.HeadModules;
        var adaptable = linears.Where(l => !Lora.ModulesToSave.Covers(head, l.Path)).ToList();
        var effectiveTargets = targets.Count == 0 ? encoder.DefaultTargetModules : targets;
        var config = new TrainingConfig { Model = model, Rank = rank, Alpha = rank, TargetModules = effectiveTargets, Bias = bias };
        var selected = LoraInjector.SelectTargets(adaptable.Select(l => l.Path).ToList(), config).ToHashSet(StringComparer.Ordinal);
        var adapted = adaptable.Where(l => selected.Contains(l.Path)).ToList();
        var lora = adapted.Sum(l => rank * (l.In + l.Out) + (useDora ? l.Out : 0));
        var headParameters = encoder.HeadParameterCount(labels);
        var layerNormBiases = (long)encoder.HiddenSize * (1 + 2L * encoder.NumHiddenLayers);
        var biases = bias switch
        {
            BiasMode.LoraOnly => adapted.Sum(l => l.Out),
            BiasMode.All => adaptable.Sum(l => l.Out) + layerNormBiases,
            _ => 0,
        };
        var total = encoder.ParameterCount(labels) + lora;
        return new ParameterReport(model, rank, effectiveTargets, bias, adapted.Select(l => l.Path).ToList(), lora + headParameters + biases, total)
        {
            LoraParameters = lora,
            UseDora = useDora,
        };
    }

    /// <summary>
    /// A Hugging Face decoder folder with LoRA, counted from its config.json alone (no weights): targets as training
    /// selects them (the model type's default when none; all-linear leaves out lm_head), and the modules_to_save that
    /// train in full beside them (resolved by training's rule, <see cref="DecoderModulesToSave.Match"/>; never targets).
    /// </summary>
    /// <exception cref="ArgumentException">A modules_to_save name the model's training would refuse (unknown, tied, Conv1D).</exception>
    public static ParameterReport ForDecoder(string model, DecoderArchitecture decoder, int rank, IReadOnlyList<string> targets, BiasMode bias = BiasMode.None,
        IReadOnlyList<string>? modulesToSave = null)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        var effectiveTargets = targets.Count == 0 ? TrainingOptions.DefaultTargetModules(model) ?? [] : targets;
        var config = new TrainingConfig { Model = model, Rank = rank, Alpha = rank, TargetModules = effectiveTargets, Bias = bias };
        var weightModules = decoder.WeightModules;
        var saved = modulesToSave is { Count: > 0 }
            ? DecoderModulesToSave.Match([.. weightModules.Keys], modulesToSave, decoder.TiedHead, decoder.TiedEmbedding,
                path => decoder.FanInFanOut && decoder.Linears.Any(l => l.Path == path) ? DecoderModulesToSave.Conv1DRefusal(path) : null)
            : [];
        var savedParameters = saved.Sum(path => weightModules[path]);
        var paths = decoder.Linears.Select(l => l.Path).Append(LoraInjector.OutputHead).Except(saved).ToList();
        var selected = LoraInjector.SelectTargets(paths, config).ToHashSet(StringComparer.Ordinal);
        if (selected.Contains(LoraInjector.OutputHead))
            throw new ArgumentException($"lm_head is the output head; counting LoRA on it from config.json is not supported (target the decoder's projections)");
        var adapted = decoder.Linears.Where(l => selected.Contains(l.Path)).ToList();
        var lora = adapted.Sum(l => rank * (l.In + l.Out));
        var biases = bias switch
        {
            BiasMode.LoraOnly => adapted.Where(l => l.Bias).Sum(l => l.Out),
            BiasMode.All => decoder.Linears.Where(l => l.Bias).Sum(l => l.Out),
            _ => 0,
        };
        return new ParameterReport(model, rank, effectiveTargets, bias, adapted.Select(l => l.Path).ToList(), lora + biases + savedParameters, decoder.ParameterCount + lora)
        {
            LoraParameters = lora,
            ModulesToSave = saved,
        };
    }

    /// <summary>PEFT's print_trainable_parameters line.</summary>
    public string ToText() => string.Create(CultureInfo.InvariantCulture,
        $"trainable params: {TrainableParameters:N0} || all params: {TotalParameters:N0} || trainable%: {TrainablePercent:0.0000}");

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };
}
