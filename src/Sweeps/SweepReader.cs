using System.Globalization;
using Orchestrator.Contracts.Trials;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Sweeps;

/// <summary>
/// Reads one sweep file into a <see cref="SweepSpec"/>, collecting every problem with its line and column. Split by
/// section: the top level and the checks over all trials here; task, objectives, baselines, early_terminate,
/// parameters, values and YAML 1.1 scalars in their own files.
/// </summary>
internal sealed partial class SweepReader(string file)
{
    private static readonly string[] TopKeys =
        ["name", "description", "seed", "task", "metric", "metrics", "method", "run_cap", "parallel", "max_failures", "baselines", "parameters", "early_terminate", "pack"];

    /// <summary>W&amp;B keys that tell its agent what to launch or where to log: meaningless here, one warning each.</summary>
    private static readonly Dictionary<string, string> WandbOnlyKeys = new(StringComparer.Ordinal)
    {
        ["program"] = "the script W&B's agent launches; here every trial is trained by the trainer from task and parameters",
        ["command"] = "how W&B's agent launches the program; here every trial is trained by the trainer from task and parameters",
        ["project"] = "the W&B project runs are logged to; results go to this sweep's leaderboard",
        ["entity"] = "the W&B team runs are logged to; results go to this sweep's leaderboard",
        ["controller"] = "where W&B runs its sweep controller; here the sweep grain decides",
        ["job"] = "a W&B launch job; here every trial is trained by the trainer from task and parameters",
        ["scheduler"] = "W&B launch's scheduler; here the sweep's silos schedule trials",
    };

    /// <summary>Ray Tune, Optuna and Katib names for the early-termination knobs.</summary>
    private static readonly Dictionary<string, string> RayTuneNames = new()
    {
        ["max_t"] = "max_iter", ["grace_period"] = "min_iter", ["reduction_factor"] = "eta", ["min_t"] = "min_iter",
        ["n_startup_trials"] = "min_trials", ["n_warmup_steps"] = "start_iter", ["min_trials_required"] = "min_trials",
    };

    /// <summary>Each objective's name node, for positions in messages.</summary>
    private readonly Dictionary<YNode, string> _metricNames = [];
    private YNode? _taskModel;
    private YNode? _baselines;
    private YNode? _parameters;
    private YNode? _pack;

    public List<SweepProblem> Problems { get; } = [];
    public List<SweepProblem> Warnings { get; } = [];

    public void Add(int line, int column, string message) => Problems.Add(new SweepProblem(file, Math.Max(1, line), Math.Max(1, column), message));
    private void Add(YNode at, string message) => Add(at.Line, at.Column, message);
    private void Warn(YNode at, string message) => Warnings.Add(new SweepProblem(file, at.Line, at.Column, message));

    public SweepSpec? Read(string text)
    {
        var root = YamlTree.Read(text, Add);
        if (root is null) return null;
        if (root is not YMapping top)
        {
            if (root is YScalar { IsNull: true }) Add(root, "file is empty; expected a mapping with name, task, metric and parameters");
            else Add(root, $"a sweep file is a mapping of keys (name, task, metric, parameters, ...), got {Describe(root)}");
            return null;
        }
        var keys = Keys(top, TopKeys, null, WandbOnlyKeys);

        var (name, displayName) = Name(top, keys);
        var description = keys.TryGetValue("description", out var d) ? String(d, "description") ?? "" : "";
        long seed = keys.TryGetValue("seed", out var s) ? Int(s, "seed", 0, long.MaxValue) ?? 0 : 0;
        var task = Task(top, keys);
        var method = SweepMethod.Grid;
        if (keys.TryGetValue("method", out var m))
        {
            var text2 = String(m, "method");
            if (text2 == "grid") method = SweepMethod.Grid;
            else if (text2 == "random") method = SweepMethod.Random;
            else if (text2 == "bayes") method = SweepMethod.Bayes;
            else if (text2 is not null) Add(m, $"method must be grid, random or bayes, got '{YamlTree.Truncate(text2)}'");
        }
        var objectives = Objectives(top, keys, method);
        int? runCap = keys.TryGetValue("run_cap", out var rc) ? (int?)Int(rc, "run_cap", 1, SweepFile.MaxRunCap) : null;
        if (method != SweepMethod.Grid && !keys.ContainsKey("run_cap"))
            Warn(top, $"no run_cap: method {method.ToString().ToLowerInvariant()} runs {SweepFile.DefaultRunCap} trials (W&B would run until stopped); "
                + $"give run_cap (at most {SweepFile.MaxRunCap}) to choose, and raise it later to add trials");
        int parallel = keys.TryGetValue("parallel", out var pa) ? (int)(Int(pa, "parallel", 1, SweepFile.MaxParallel) ?? 1) : 1;
        int maxFailures = keys.TryGetValue("max_failures", out var mf) ? (int)(Int(mf, "max_failures", 0, SweepFile.MaxMaxFailures) ?? 2) : 2;
        var (baselines, baselineParameters) = keys.TryGetValue("baselines", out var b) ? Baselines(b, task?.Model) : ([], new());
        _baselines = b;
        var parameters = keys.TryGetValue("parameters", out var p) ? Parameters(p, method, task?.Model) : [];
        var early = keys.TryGetValue("early_terminate", out var et) ? EarlyTerminate(et) : null;
        var pack = keys.TryGetValue("pack", out var pk) ? Pack(pk) : PackSetting.Off;
        _pack = pk;
        if (pack is { Mode: not PackMode.Off } && pk is not null && task is not null && !BuiltInModels.Names.Contains(task.Model))
            // Said, not hidden: a setting that does nothing would mislead.
            Warn(pk, $"pack: {pack} has no effect on model '{task.Model}': only LoRA trials of built-in models pack (a pretrained encoder trains its classifier head per trial); every trial trains alone");

        if (name is null || task is null || objectives is null || Problems.Count > 0) return null;
        if (objectives.Count == 0) objectives = [DefaultMetric(task, top)];
        objectives = Aliased(objectives, task);
        if (Problems.Count > 0) return null;
        var spec = new SweepSpec
        {
            Name = name, DisplayName = displayName, Description = description, Seed = seed, Task = task, Metric = objectives[0],
            Objectives = objectives, Method = method,
            RunCap = (int)(runCap ?? (method == SweepMethod.Grid ? SweepFile.MaxRunCap : SweepFile.DefaultRunCap)), Parallel = parallel,
            MaxFailures = maxFailures, Baselines = baselines, BaselineParameters = baselineParameters, Parameters = parameters, EarlyTerminate = early,
            Pack = pack ?? PackSetting.Off,
            // The source is set here, not after: the expansion CheckTrials makes is kept by spec instance, and its
            // submission reuses it only when this is the instance the caller gets.
            SourceText = text, SourceName = file,
        };
        CheckTrials(spec, top);
        return Problems.Count > 0 ? null : spec;
    }

    /// <summary>
    /// The stored name (a valid sweep name) and the name as written. W&amp;B allows free text and no name at all: free
    /// text is slugified ("LoRA sweep #2" → lora-sweep-2), a missing name comes from the file name.
    /// </summary>
    private (string? Name, string Display) Name(YMapping top, Dictionary<string, YNode> keys)
    {
        if (keys.TryGetValue("name", out var node))
        {
            var written = String(node, "name");
            if (written is null) return (null, "");
            var slug = SweepNames.Slug(written);
            if (slug is null) Add(node, $"name '{YamlTree.Truncate(written)}' has no letters or digits to make a sweep name of ({Orchestrator.Contracts.Sweeps.SweepName.Rule})");
            return (slug, written);
        }
        var fromFile = SweepNames.Slug(Path.GetFileNameWithoutExtension(file));
        if (fromFile is null) Add(top, $"missing key 'name', and the file name '{YamlTree.Truncate(file)}' gives none; add name: my-sweep");
        return (fromFile, fromFile ?? "");
    }

    // --- the trials as a whole ----------------------------------------------------------------------------------

    /// <summary>
    /// Each value passed its own rule; now each trial's config must pass the rules that join options (the trainer's
    /// <see cref="TrainingConfig.Problems"/>: what it would refuse at train time; each distinct config once, see
    /// <see cref="TrainingConfigProblemMemo"/>), and the metric must be one the trials report.
    /// </summary>
    private void CheckTrials(SweepSpec spec, YMapping top)
    {
        if (spec.Method == SweepMethod.Bayes && spec.Baselines.Count > 0 && _baselines is { } bn)
        {
            Add(bn, "baselines are not supported with method bayes yet (its trials are only known as they are suggested); run them in a grid sweep");
            return;
        }
        var trials = spec.Method == SweepMethod.Bayes ? SweepExpander.PriorSample(spec) : SweepExpander.Expand(spec);
        var reported = new HashSet<string>(StringComparer.Ordinal);
        var checks = new TrainingConfigProblemMemo();
        foreach (var trial in trials)
        {
            foreach (var problem in checks.Problems(trial.Config))
            {
                if (!reported.Add(problem.Message)) continue;
                var at = spec.Parameters.FirstOrDefault(p => p.Key == problem.Key).Value is { } parameter
                    ? (parameter.Line, parameter.Column)
                    : problem.Key is "target_modules" or "model" && _taskModel is { } model ? (model.Line, model.Column)
                    : _parameters is { } ps ? (ps.Line, ps.Column) : (top.Line, top.Column);
                var values = string.Join(", ", trial.Parameters.Select(kv => $"{kv.Key}={kv.Value}"));
                Add(at.Item1, at.Item2, $"{problem.Message} (in {trial.Kind.Name()} trial {trial.TrialId}{(values.Length > 0 ? ": " + YamlTree.Truncate(values, 120) : "")})");
            }
        }
        CheckMetric(spec, trials.Select(t => t.Kind.Adapter()).Distinct().ToList(), top);
        var accumulating = trials.Count(t => t.Config.GradientAccumulationSteps > 1);
        if (spec.Pack.Mode != PackMode.Off && accumulating > 0 && _pack is { } packNode)
            // Said, not hidden: these trials run alone whatever pack asks.
            Warn(packNode, $"pack: {accumulating} of {trials.Count} trials have gradient_accumulation_steps > 1 and train alone (a pack steps its members once per micro-batch)");
    }

    /// <summary>`pack: auto | off | K` with K from 1 to <see cref="PackSetting.MaxSize"/> (YAML 1.1's `false`/`no` read as off too).</summary>
    private PackSetting? Pack(YNode node)
    {
        var need = $"pack must be auto, off or a pack size from 1 to {PackSetting.MaxSize}";
        if (node is YScalar { IsNull: false } s)
        {
            if (s.Value == "auto") return PackSetting.Auto;
            if (s.Value == "off" || (s.Plain && s.Value is "false" or "no")) return PackSetting.Off;
            if (s.Plain && IntPattern().IsMatch(s.Value))
            {
                if (int.TryParse(s.Value.Replace("_", ""), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var k) && k is >= 1 and <= PackSetting.MaxSize)
                    return k == 1 ? PackSetting.Off : PackSetting.Fixed(k);
                Add(node, $"{need}, got {Written(node)} (1 trains each trial alone, as off does)");
                return null;
            }
            Add(node, $"{need}, got '{YamlTree.Truncate(s.Value)}'");
            return null;
        }
        Add(node, $"{need}, got {Written(node)}");
        return null;
    }
}
