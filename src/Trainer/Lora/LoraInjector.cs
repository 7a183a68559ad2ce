using System.Reflection;
using System.Text.RegularExpressions;
using Orchestrator.Trials.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Lora;

/// <summary>One linear module that now carries an adapter.</summary>
public sealed record AdaptedModule(string Path, LoraLinear Layer);

/// <summary>What <see cref="LoraInjector.Inject"/> did: the adapted modules, in model order, and the parameter counts after it.</summary>
public sealed record LoraInjection(IReadOnlyList<AdaptedModule> Modules, long TrainableParameters, long TotalParameters)
{
    public double TrainableFraction => TotalParameters == 0 ? 0 : (double)TrainableParameters / TotalParameters;
}

/// <summary>
/// Finds the target linear modules of a model (PEFT's matching rules) and replaces each with a <see cref="LoraLinear"/>,
/// freezing everything else.
/// </summary>
/// <remarks>
/// Model contract: every linear submodule is held in a field typed <c>Module&lt;Tensor, Tensor&gt;</c> whose C# name is
/// the module's name, registered through RegisterComponents(). The injector sets that field on the parent and points
/// the parent's registered submodule of the same name at the adapter, keeping the module order.
/// </remarks>
public static class LoraInjector
{
    /// <summary>PEFT's shorthand for every linear layer except the output head.</summary>
    public const string AllLinear = "all-linear";

    /// <summary>The output head PEFT leaves out of `all-linear`.</summary>
    public const string OutputHead = "lm_head";

    private static readonly FieldInfo? RegisteredSubmodules =
        typeof(nn.Module).GetField("_internal_submodules", BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>
    /// Replaces each targeted linear module with a <see cref="LoraLinear"/> (adapters drawn in module order from one
    /// generator seeded with <paramref name="seed"/>), then freezes every parameter but the adapters and the biases
    /// that <see cref="TrainingConfig.Bias"/> trains. Modules already adapted are not targets again. A model's
    /// <see cref="IModulesToSave"/> modules are never targets and train in full (PEFT's modules_to_save).
    /// </summary>
    /// <exception cref="LoraTargetException">The targets name an unknown module or select nothing.</exception>
    public static LoraInjection Inject(nn.Module model, TrainingConfig config, long seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        if (!Enum.IsDefined(config.Bias)) throw new ArgumentOutOfRangeException(nameof(config), config.Bias, "not a bias mode");

        var linears = LinearModules(model).ToList();
        var targets = SelectTargets(linears.Select(l => l.Path).ToList(), config).ToHashSet(StringComparer.Ordinal);

        foreach (var (_, parameter) in model.named_parameters()) parameter.requires_grad = false;

        var adapted = new List<AdaptedModule>();
        using (var generator = LoraLinear.CreateGenerator(seed))
        {
            foreach (var (path, parent, name, linear) in linears)
            {
                if (!targets.Contains(path)) continue;
                var layer = new LoraLinear(linear, SettingsFor(path, config), generator);
                layer.train(parent.training);
                Replace(parent, name, path, layer);
                adapted.Add(new AdaptedModule(path, layer));
            }
        }

        var modulesToSave = ModulesToSave.Of(model);
        foreach (var (name, parameter) in model.named_parameters())
            if (ModulesToSave.Covers(modulesToSave, name)) parameter.requires_grad = true;

        if (config.Bias == BiasMode.All)
        {
            // PEFT: every bias in the model trains, adapted or not.
            foreach (var (name, parameter) in model.named_parameters())
                if (IsBias(name)) parameter.requires_grad = true;
        }
        else if (config.Bias == BiasMode.LoraOnly)
        {
            foreach (var module in adapted)
                if (module.Layer.BaseLayer.bias is not null) module.Layer.BiasTrains = true;
        }

        return new LoraInjection(adapted, ParameterCount.Trainable(model), ParameterCount.Total(model));
    }

    /// <summary>Paths of the model's linear modules in definition order (adapters' wrapped layers excluded).</summary>
    public static IReadOnlyList<string> LinearModulePaths(nn.Module model) =>
        LinearModules(model).Select(l => l.Path).ToList();

    /// <summary>
    /// The paths, out of <paramref name="linearModulePaths"/>, that <paramref name="config"/> targets; no targets means
    /// the model type's default (<see cref="TrainingOptions.DefaultTargetModules"/>). Needs no model built, so a sweep
    /// can be checked against <c>BuiltInModels.LinearModules</c>.
    /// </summary>
    /// <exception cref="LoraTargetException">A target names no linear module, or nothing is selected.</exception>
    public static IReadOnlyList<string> SelectTargets(IReadOnlyList<string> linearModulePaths, TrainingConfig config)
    {
        ArgumentNullException.ThrowIfNull(linearModulePaths);
        ArgumentNullException.ThrowIfNull(config);

        List<string> selected;
        string description;
        if (config.TargetModulesRegex is { } pattern)
        {
            var regex = new Regex($"^(?:{pattern})$", RegexOptions.CultureInvariant);
            selected = linearModulePaths.Where(p => regex.IsMatch(p)).ToList();
            description = $"target_modules_regex '{pattern}'";
        }
        else if (config.TargetModules.Any(t => string.Equals(t, AllLinear, StringComparison.OrdinalIgnoreCase)))
        {
            selected = linearModulePaths.Where(p => LastSegment(p) != OutputHead).ToList();
            description = $"target_modules [{AllLinear}]";
        }
        else
        {
            var given = config.TargetModules.Count > 0;
            var targets = given ? config.TargetModules
                : TrainingOptions.DefaultTargetModules(config.Model)
                  ?? throw new LoraTargetException($"No LoRA target modules given, and model '{config.Model}' has no default; set target_modules or target_modules_regex.", linearModulePaths);
            var unknown = targets.Where(t => !linearModulePaths.Any(p => NameMatches(p, t))).ToList();
            if (unknown.Count > 0)
                throw new LoraTargetException(
                    $"Unknown LoRA target module{(unknown.Count > 1 ? "s" : "")}{(given ? "" : $" in the default targets of '{config.Model}'")}: {string.Join(", ", unknown.Select(u => $"'{u}'"))}.",
                    linearModulePaths);
            selected = linearModulePaths.Where(p => targets.Any(t => NameMatches(p, t))).ToList();
            description = $"target_modules [{string.Join(", ", targets)}]";
        }

        if (config.LayersToTransform is { Count: > 0 } layers)
        {
            selected = selected.Where(p => LayerIndex(p) is { } index && layers.Contains(index)).ToList();
            description += $" with layers_to_transform [{string.Join(", ", layers)}]";
        }

        if (selected.Count == 0)
            throw new LoraTargetException($"The LoRA targets ({description}) select no linear module.", linearModulePaths);
        return selected;
    }

    /// <summary>Rank and alpha for one module: rank_pattern / alpha_pattern override the config's where a key matches.</summary>
    public static LoraLayerSettings SettingsFor(string path, TrainingConfig config)
    {
        var rank = PatternValue(config.RankPattern, path) ?? config.Rank;
        var alpha = PatternValue(config.AlphaPattern, path) ?? config.Alpha;
        return new LoraLayerSettings(rank, alpha, config.Dropout, config.UseRslora, config.Init, config.UseDora);
    }

    /// <summary>PEFT's rule: an entry matches the whole path or a dotted suffix of it.</summary>
    public static bool NameMatches(string path, string target) =>
        path == target || path.EndsWith("." + target, StringComparison.Ordinal);

    /// <summary>The decoder layer index of a path: N in `layers.N.`, else the first `.N.` segment; null when there is none.</summary>
    public static int? LayerIndex(string path)
    {
        var match = Regex.Match(path, @"(?:^|\.)layers\.(\d+)\.");
        if (!match.Success) match = Regex.Match(path, @"(?:^|\.)(\d+)\.");
        return match.Success && int.TryParse(match.Groups[1].Value, out var index) ? index : null;
    }

    private static T? PatternValue<T>(IReadOnlyDictionary<string, T>? patterns, string path) where T : struct
    {
        if (patterns is null) return null;
        // PEFT: the key is a regex that must match the end of the path at a dot boundary.
        foreach (var (key, value) in patterns)
            if (Regex.IsMatch(path, $"^(?:.*\\.)?(?:{key})$", RegexOptions.CultureInvariant))
                return value;
        return null;
    }

    private static bool IsBias(string parameterName) => parameterName == "bias" || parameterName.EndsWith(".bias", StringComparison.Ordinal);

    private static string LastSegment(string path) => path[(path.LastIndexOf('.') + 1)..];

    internal readonly record struct LinearSite(string Path, nn.Module Parent, string Name, Linear Linear);

    internal static IEnumerable<LinearSite> LinearModules(nn.Module model)
    {
        var modulesToSave = ModulesToSave.Of(model);
        foreach (var (name, child) in model.named_children())
        {
            foreach (var site in Walk(model, name, child, name, modulesToSave)) yield return site;
        }
    }

    private static IEnumerable<LinearSite> Walk(nn.Module parent, string name, nn.Module module, string path, IReadOnlyList<string> modulesToSave)
    {
        if (ModulesToSave.Covers(modulesToSave, path)) yield break; // trains in full; not a target
        switch (module)
        {
            case Linear linear:
                yield return new LinearSite(path, parent, name, linear);
                yield break;
            case LoraLinear:
                yield break; // already adapted: its base layer is not a target of its own
        }
        foreach (var (childName, child) in module.named_children())
        {
            foreach (var site in Walk(module, childName, child, $"{path}.{childName}", modulesToSave)) yield return site;
        }
    }

    internal static void Replace(nn.Module parent, string name, string path, nn.Module<Tensor, Tensor> replacement)
    {
        var field = FindField(parent.GetType(), name);
        if (field is null || !field.FieldType.IsAssignableFrom(replacement.GetType()))
            throw new InvalidOperationException(
                $"Cannot adapt '{path}': {parent.GetType().Name} must hold it in a field named '{name}' typed Module<Tensor, Tensor>.");
        field.SetValue(parent, replacement);

        if (RegisteredSubmodules?.GetValue(parent) is OrderedDict<string, nn.Module> submodules && submodules.ContainsKey(name))
        {
            submodules[name] = replacement; // same slot, so parameter and state_dict order are kept
        }
        else
        {
            parent.register_module(name, null!);
            parent.register_module(name, replacement);
        }
    }

    private static FieldInfo? FindField(Type? type, string name)
    {
        for (; type is not null && type != typeof(nn.Module); type = type.BaseType)
        {
            var field = type.GetField(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
            if (field is not null) return field;
        }
        return null;
    }
}
