using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Packing;

/// <summary>One member's adapter in a packed model: its layers by module path and its trainable parameters, named as alone.</summary>
public sealed record PackedAdapter(IReadOnlyList<AdaptedModule> Modules, IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter)> Trainable)
{
    public long TrainableParameters => Trainable.Sum(t => t.Parameter.numel());
}

/// <summary>What <see cref="PackedLoraInjector.Inject"/> did: the shared layers and each member's adapter, by member index.</summary>
public sealed record PackedInjection(IReadOnlyList<PackedLoraLinear> Layers, IReadOnlyList<PackedAdapter> Members);

/// <summary>
/// Replaces each LoRA target of a base model with a <see cref="PackedLoraLinear"/> carrying one adapter per member.
/// Member k's adapters are drawn exactly as <see cref="LoraInjector.Inject"/> draws them for that trial alone (one
/// generator seeded with its seed, modules in model order, its own rank / alpha / dropout / init per layer).
/// </summary>
public static class PackedLoraInjector
{
    /// <exception cref="ArgumentException">A member cannot pack, or the members target different modules.</exception>
    public static PackedInjection Inject(nn.Module model, IReadOnlyList<TrainingConfig> members)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (members.Count == 0) throw new ArgumentException("A pack has at least one member.", nameof(members));
        foreach (var config in members)
            if (PackCompatibility.WhyNotPackable(config) is { } why) throw new ArgumentException($"Cannot pack: {why}.", nameof(members));
        if (ModulesToSave.Of(model).Count > 0)
            throw new ArgumentException("Cannot pack a model with modules_to_save: each member would train its own copy of a shared module.", nameof(model));

        var linears = LoraInjector.LinearModules(model).ToList();
        var paths = linears.Select(l => l.Path).ToList();
        var targets = LoraInjector.SelectTargets(paths, members[0]);
        for (var k = 1; k < members.Count; k++)
            if (!LoraInjector.SelectTargets(paths, members[k]).SequenceEqual(targets))
                throw new ArgumentException("The members of a pack must adapt the same modules.", nameof(members));
        var targetSet = targets.ToHashSet(StringComparer.Ordinal);

        foreach (var (_, parameter) in model.named_parameters()) parameter.requires_grad = false;

        var generators = members.Select(c => LoraLinear.CreateGenerator(c.Seed)).ToList();
        var modules = members.Select(_ => new List<AdaptedModule>()).ToList();
        var layers = new List<PackedLoraLinear>();
        try
        {
            foreach (var (path, parent, name, linear) in linears)
            {
                if (!targetSet.Contains(path)) continue;
                var adapters = new List<LoraLinear>(members.Count);
                for (var k = 0; k < members.Count; k++)
                {
                    var adapter = new LoraLinear(linear, LoraInjector.SettingsFor(path, members[k]), generators[k]);
                    adapter.train(parent.training);
                    adapters.Add(adapter);
                    modules[k].Add(new AdaptedModule(path, adapter));
                }
                var packed = new PackedLoraLinear(linear, adapters);
                packed.train(parent.training);
                LoraInjector.Replace(parent, name, path, packed);
                layers.Add(packed);
            }
        }
        finally
        {
            foreach (var g in generators) g.Dispose();
        }

        var adapted = modules.Select(list => new PackedAdapter(list,
            list.SelectMany(m => new[] { ($"{m.Path}.lora_A", m.Layer.LoraA), ($"{m.Path}.lora_B", m.Layer.LoraB) }).ToList())).ToList();
        return new PackedInjection(layers, adapted);
    }
}
