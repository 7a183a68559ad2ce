using Orchestrator.Trials.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Lora;

/// <summary>Parameters that step at one learning rate (<see cref="LearningRateFactor"/> × the schedule's) and one weight decay.</summary>
public sealed record OptimizerGroup(string Name, IReadOnlyList<(string Name, Parameter Parameter)> Parameters, double LearningRateFactor, double WeightDecay);

/// <summary>
/// How a trial's trainable parameters split into AdamW param groups. One group at lr and the config's weight decay,
/// unless LoRA+ is on (loraplus_lr_ratio &gt; 0), which follows PEFT's create_loraplus_optimizer: every lora_B and
/// every other 1-D parameter (biases, DoRA magnitudes, norms) steps at ratio × lr, the rest (lora_A, a head's weight)
/// at lr; biases and the parameters of normalisation layers take no weight decay. PEFT's separate group for LoRA on
/// embedding layers has no members here: only linear layers are adapted. PEFT's loraplus_weight_decay is our
/// weight_decay.
/// </summary>
public static class OptimizerGroups
{
    public const string Single = "all", LoraPlusA = "groupA", LoraPlusB = "groupB", LoraPlusBNoDecay = "groupB_no_decay";

    /// <summary>The groups, in the order their parameters are handed to the optimizer; empty groups are left out.</summary>
    public static IReadOnlyList<OptimizerGroup> Of(nn.Module model, IReadOnlyList<(string Name, Parameter Parameter)> trainable, TrainingConfig config)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainable);
        ArgumentNullException.ThrowIfNull(config);
        if (config.LoraPlusLrRatio <= 0 || config.Adapter != AdapterKind.Lora)
            return [new OptimizerGroup(Single, trainable, 1, config.WeightDecay)];

        var normParameters = NormParameterNames(model);
        var a = new List<(string, Parameter)>();
        var b = new List<(string, Parameter)>();
        var bNoDecay = new List<(string, Parameter)>();
        foreach (var (name, parameter) in trainable)
        {
            if (name.Contains("lora_B", StringComparison.Ordinal) || parameter.dim() == 1)
            {
                // PEFT: decay_parameters are those outside LayerNorm layers whose names hold no "bias".
                var decays = !name.Contains("bias", StringComparison.Ordinal) && !normParameters.Contains(name);
                (decays ? b : bNoDecay).Add((name, parameter));
            }
            else
            {
                a.Add((name, parameter));
            }
        }
        var groups = new List<OptimizerGroup>
        {
            new(LoraPlusA, a, 1, config.WeightDecay),
            new(LoraPlusB, b, config.LoraPlusLrRatio, config.WeightDecay),
            new(LoraPlusBNoDecay, bNoDecay, config.LoraPlusLrRatio, 0),
        };
        return groups.Where(g => g.Parameters.Count > 0).ToList();
    }

    /// <summary>AdamW over <paramref name="groups"/>, each at its factor × <paramref name="learningRate"/> and its weight decay.</summary>
    public static AdamW CreateAdamW(IReadOnlyList<OptimizerGroup> groups, double learningRate, double beta1, double beta2, double epsilon)
    {
        ArgumentNullException.ThrowIfNull(groups);
        return new Training.StepwiseAdamW(
            groups.Select(g => new AdamW.ParamGroup(g.Parameters.Select(p => p.Parameter).ToList(), learningRate * g.LearningRateFactor, beta1, beta2, epsilon, g.WeightDecay)).ToList(),
            learningRate, beta1, beta2, epsilon);
    }

    /// <summary>Parameter names of the model's normalisation layers (LayerNorm, and RMSNorm-like modules by their type name).</summary>
    private static HashSet<string> NormParameterNames(nn.Module model)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, module) in model.named_modules())
        {
            if (module is not LayerNorm && !module.GetType().Name.EndsWith("Norm", StringComparison.Ordinal)) continue;
            foreach (var (name, _) in module.named_parameters(recurse: false))
                names.Add(path.Length == 0 ? name : $"{path}.{name}");
        }
        return names;
    }
}
