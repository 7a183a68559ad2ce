using Orchestrator.Contracts.Trials;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Orchestrator.Trials.Configuration;

namespace Orchestrator.Sweeps;

/// <summary>
/// Reads and validates sweep files. Every problem is collected (with file, line and column) and thrown together as
/// one <see cref="SweepValidationException"/>; nothing a user writes produces any other exception.
/// </summary>
public static partial class SweepFile
{
    public const int MaxFileBytes = 1 << 20;
    public const int MaxStringLength = 4096;
    public const int MaxRunCap = 10_000;
    /// <summary>run_cap of a random or bayes sweep that gives none (W&amp;B's would run until stopped).</summary>
    public const int DefaultRunCap = 100;
    public const int MaxGridTrials = 10_000;
    public const int MaxParallel = 256;
    public const int MaxMaxFailures = 100;
    public const int MaxIterLimit = 1_000_000;

    public static SweepSpec Load(string path) => Load(path, out _);

    /// <summary>Loads and validates a sweep file; <paramref name="warnings"/> are things that run but probably not as meant.</summary>
    public static SweepSpec Load(string path, out IReadOnlyList<SweepProblem> warnings)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw Fail(path, "file not found");
            if (info.Length > MaxFileBytes) throw Fail(path, $"file is {info.Length} bytes; a sweep file may be at most {MaxFileBytes} bytes (1 MB)");
            return Parse(File.ReadAllText(path), path, out warnings);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw Fail(path, "cannot read the file: " + e.Message);
        }
    }

    public static SweepSpec Parse(string yamlText, string fileName) => Parse(yamlText, fileName, out _);

    /// <summary>
    /// Parses and validates a sweep: every value against the trainer's rule table, every expanded trial's config as a
    /// whole, and the metric against what the task's trials report. <paramref name="warnings"/> lists what is valid
    /// but suspicious, such as a metric only some of the trials report.
    /// </summary>
    public static SweepSpec Parse(string yamlText, string fileName, out IReadOnlyList<SweepProblem> warnings)
    {
        ArgumentNullException.ThrowIfNull(yamlText);
        fileName ??= "<sweep>";
        if (yamlText.Length > MaxFileBytes || Encoding.UTF8.GetByteCount(yamlText) > MaxFileBytes)
            throw Fail(fileName, $"file is larger than {MaxFileBytes} bytes (1 MB); a sweep file is much smaller");
        var reader = new SweepReader(fileName);
        var spec = reader.Read(yamlText);
        warnings = reader.Warnings.OrderBy(p => p.Line).ThenBy(p => p.Column).ToList();
        if (reader.Problems.Count > 0 || spec is null)
        {
            if (reader.Problems.Count == 0) reader.Add(1, 1, "file is empty; expected a mapping with name, task, metric and parameters");
            throw new SweepValidationException(reader.Problems.OrderBy(p => p.Line).ThenBy(p => p.Column).ToList());
        }
        return spec with { SourceText = yamlText, SourceName = fileName };
    }

    private static SweepValidationException Fail(string file, string message) => new([new SweepProblem(file, 1, 1, message)]);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_./-]{0,127}$")]
    internal static partial Regex MetricPattern();
}

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

    /// <summary>No metric (allowed for grid and random, as in W&amp;B): rank by the task's loss, lower is better.</summary>
    private MetricSpec DefaultMetric(TaskSpec task, YMapping top)
    {
        var reported = MetricNames.ReportedBy(task.Model, task.Dataset, AdapterModes.Lora);
        var name = reported is null || reported.Contains(MetricNames.TestLoss) ? MetricNames.TestLoss : reported[0];
        Warn(top, $"no metric: trials are ranked by {name} (minimize); add metric: {{ name: ..., goal: maximize }} to rank by another");
        return new MetricSpec(name, MetricGoal.Minimize);
    }

    /// <summary>
    /// Hugging Face and W&amp;B metric names (eval_loss, eval/loss, val_loss, train/loss, ...) read as the task's own
    /// (<see cref="MetricAliases"/>), each with a warning that names the mapping.
    /// </summary>
    private List<MetricSpec> Aliased(List<MetricSpec> objectives, TaskSpec task)
    {
        var kind = MetricNames.TaskOf(task.Model, task.Dataset);
        var result = new List<MetricSpec>(objectives.Count);
        foreach (var objective in objectives)
        {
            var alias = MetricAliases.Resolve(objective.Name, kind);
            var node = _metricNames.FirstOrDefault(kv => kv.Value == objective.Name).Key;
            var name = alias?.Name ?? objective.Name;
            if (alias is not null && node is not null)
            {
                _metricNames[node] = name;
                Warn(node, $"metric '{YamlTree.Truncate(alias.Written)}' is read as '{name}' ({alias.Why})");
            }
            if (result.Any(r => r.Name == name))
            {
                if (node is not null) Add(node, $"metric '{YamlTree.Truncate(objective.Name)}' is read as '{name}', which is listed already");
                continue;
            }
            result.Add(objective with { Name = name });
        }
        return result;
    }

    // --- the trials as a whole ----------------------------------------------------------------------------------

    /// <summary>
    /// Each value passed its own rule; now each trial's config must pass the rules that join options (the trainer's
    /// <see cref="TrainingConfig.Problems"/>: what it would refuse at train time), and the metric must be one the
    /// trials report.
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
        foreach (var trial in trials)
        {
            foreach (var problem in trial.Config.Problems())
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
        CheckMetric(spec, trials.Select(t => t.Kind.Name()).Distinct().ToList(), top);
        var accumulating = trials.Count(t => t.Config.GradientAccumulationSteps > 1);
        if (spec.Pack.Mode != PackMode.Off && accumulating > 0 && _pack is { } packNode)
            // Said, not hidden: these trials run alone whatever pack asks.
            Warn(packNode, $"pack: {accumulating} of {trials.Count} trials have gradient_accumulation_steps > 1 and train alone (a pack steps its members once per micro-batch)");
    }

    private void CheckMetric(SweepSpec spec, IReadOnlyList<string> kinds, YMapping top)
    {
        foreach (var objective in spec.Objectives.Count > 0 ? spec.Objectives : [spec.Metric])
        {
            if (SystemObjectives.All.Contains(objective.Name)) continue; // every trial has them
            CheckMetric(spec, objective.Name, kinds, top);
        }
    }

    private void CheckMetric(SweepSpec spec, string name, IReadOnlyList<string> kinds, YMapping top)
    {
        var byKind = kinds.Select(kind => (Kind: kind, Metrics: MetricNames.ReportedBy(spec.Task.Model, spec.Task.Dataset, kind))).ToList();
        if (byKind.Count == 0 || byKind.Any(k => k.Metrics is null)) return; // a dataset only loading can classify
        YNode at = _metricNames.FirstOrDefault(kv => kv.Value == name).Key ?? top;
        var reporting = byKind.Where(k => k.Metrics!.Contains(name)).Select(k => k.Kind).ToList();
        if (reporting.Count == 0)
        {
            var known = byKind.SelectMany(k => k.Metrics!).Distinct().ToList();
            // Synonyms and typos first, then a name missing its split ("accuracy") or cut short ("test_acc").
            var suggestion = Suggestions.DidYouMean(name, known, MetricAliases.Suggestions) ?? Suggestions.DidYouMean("test_" + name, known)
                ?? (name.Length >= 4 ? known.FirstOrDefault(k => k.StartsWith(name, StringComparison.OrdinalIgnoreCase)) : null);
            var hint = suggestion is null ? "" : $" (did you mean '{suggestion}'?)";
            Add(at, $"unknown metric '{YamlTree.Truncate(name)}': {string.Join(" and ", kinds)} trials of {spec.Task.Model} on {spec.Task.Dataset} report {string.Join(", ", known)}{hint}"
                + (spec.Objectives.Count > 1 ? $"; every trial also has {string.Join(", ", SystemObjectives.All)}" : ""));
            return;
        }
        var silent = kinds.Except(reporting).ToList();
        if (silent.Count > 0)
            Warnings.Add(new SweepProblem(file, at.Line, at.Column,
                $"metric '{name}' is not reported by {string.Join(" and ", silent)} trials (only by {string.Join(" and ", reporting)}); they will have no score"));
    }

    // --- sections -----------------------------------------------------------------------------------------------

    private TaskSpec? Task(YMapping top, Dictionary<string, YNode> keys)
    {
        if (!keys.TryGetValue("task", out var node))
        {
            Add(top, "missing key 'task': name what every trial trains, e.g. task: { model: mlp, dataset: mnist } "
                + "(a W&B file's program/command is not run here; the built-in trainer trains task.model on task.dataset with the parameters)");
            return null;
        }
        if (node is not YMapping map) { Add(node, $"task must be a mapping with model, dataset and optionally base, got {Describe(node)}"); return null; }
        var k = Keys(map, ["model", "dataset", "base"], null);
        var model = RequiredString(map, k, "model", "task.model");
        _taskModel = k.GetValueOrDefault("model");
        var dataset = RequiredString(map, k, "dataset", "task.dataset");
        if (model is not null && model.Trim().Length == 0) Add(k["model"], "task.model must not be empty");
        if (dataset is not null && dataset.Trim().Length == 0) Add(k["dataset"], "task.dataset must not be empty");
        BaseModelSpec? baseSpec = null;
        if (k.TryGetValue("base", out var bn) && !(bn is YScalar { IsNull: true }))
        {
            if (bn is not YMapping bm) Add(bn, $"task.base must be {{ pretrain: {{...}} }} or {{ checkpoint: URI }}, got {Describe(bn)}");
            else
            {
                var bk = Keys(bm, ["pretrain", "checkpoint"], null);
                if (bk.ContainsKey("pretrain") == bk.ContainsKey("checkpoint"))
                    Add(bm, "task.base needs exactly one of pretrain or checkpoint");
                else if (bk.TryGetValue("checkpoint", out var cn))
                {
                    var uri = String(cn, "task.base.checkpoint");
                    if (uri is not null && uri.Trim().Length == 0) Add(cn, "task.base.checkpoint must be a path or URI, got an empty string");
                    else if (uri is not null) baseSpec = new BaseModelSpec { Checkpoint = uri };
                }
                else
                {
                    var pn = bk["pretrain"];
                    if (model is not null && !BuiltInModels.Names.Contains(model))
                        Add(pn, $"task.base.pretrain works with the built-in models ({string.Join(", ", BuiltInModels.Names)}); '{YamlTree.Truncate(model)}' needs a checkpoint");
                    var pre = new PretrainSpec();
                    if (pn is YMapping pm)
                    {
                        var pk = Keys(pm, ["epochs", "lr", "batch_size", "seed"], null);
                        if (pk.TryGetValue("epochs", out var e)) pre = pre with { Epochs = (int)(Int(e, "pretrain epochs", 0, 100_000) ?? 0) };
                        if (pk.TryGetValue("lr", out var l) && Number(l, "pretrain lr") is { } lr)
                        {
                            if (!(double.IsFinite(lr) && lr > 0)) Add(l, $"pretrain lr must be a finite number > 0, got {Written(l)}");
                            pre = pre with { LearningRate = lr };
                        }
                        if (pk.TryGetValue("batch_size", out var bs)) pre = pre with { BatchSize = (int)(Int(bs, "pretrain batch_size", 1, 1 << 20) ?? 1) };
                        if (pk.TryGetValue("seed", out var ps)) pre = pre with { Seed = Int(ps, "pretrain seed", 0, long.MaxValue) ?? 0 };
                    }
                    else if (!(pn is YScalar { IsNull: true }))
                        Add(pn, $"task.base.pretrain must be a mapping (epochs, lr, batch_size, seed), got {Describe(pn)}");
                    baseSpec = new BaseModelSpec { Pretrain = pre };
                }
            }
        }
        return model is null || dataset is null ? null : new TaskSpec(model, dataset, baseSpec);
    }

    /// <summary>
    /// `metric:` (one objective) or `metrics:` (a list, W&amp;B's multi-objective spelling). Null on a problem; empty when
    /// there is none, which grid and random allow (as W&amp;B does) and bayes does not: it learns from the metric.
    /// </summary>
    private List<MetricSpec>? Objectives(YMapping top, Dictionary<string, YNode> keys, SweepMethod method)
    {
        var hasOne = keys.TryGetValue("metric", out var one);
        var hasMany = keys.TryGetValue("metrics", out var many);
        if (hasOne && hasMany) { Add(many!, "give metric (one objective) or metrics (a list of objectives), not both"); return null; }
        if (hasOne) return MetricEntry(one!, "metric") is { } m ? [m] : null;
        if (hasMany)
        {
            if (many is not YSequence seq || seq.Items.Count == 0)
            {
                Add(many!, $"metrics must be a list of {{ name: ..., goal: maximize|minimize }}, got {Describe(many!)}");
                return null;
            }
            var result = new List<MetricSpec>();
            foreach (var item in seq.Items)
            {
                if (MetricEntry(item, "metrics entry") is not { } m) continue;
                if (result.Any(r => r.Name == m.Name)) { Add(item, $"metric '{m.Name}' is listed twice"); continue; }
                result.Add(m);
            }
            return Problems.Count > 0 ? null : result;
        }
        if (method == SweepMethod.Bayes)
        {
            Add(top, "method bayes needs metric: { name: ..., goal: maximize|minimize } (what the search learns from)");
            return null;
        }
        return [];
    }

    private MetricSpec? MetricEntry(YNode node, string what)
    {
        if (node is not YMapping map) { Add(node, $"{what} must be a mapping {{ name: ..., goal: maximize|minimize }}, got {Describe(node)}"); return null; }
        var k = Keys(map, ["name", "goal", "target"], null);
        var name = RequiredString(map, k, "name", "metric.name");
        if (k.GetValueOrDefault("name") is { } nameNode) _metricNames[nameNode] = name ?? "";
        if (name is not null && !SweepFile.MetricPattern().IsMatch(name))
            Add(k["name"], $"metric.name must be a metric name like test_accuracy (letters, digits, _ . / -), got '{YamlTree.Truncate(name)}'");
        // W&B: goal defaults to minimize.
        var goalText = k.TryGetValue("goal", out var g) ? String(g, "metric.goal") : "minimize";
        MetricGoal? goal = goalText switch { "maximize" => MetricGoal.Maximize, "minimize" => MetricGoal.Minimize, _ => null };
        if (goalText is not null && goal is null) Add(k["goal"], $"metric.goal must be maximize or minimize, got '{YamlTree.Truncate(goalText)}'");
        if (k.TryGetValue("target", out var t)) Warn(t, "metric.target (W&B stops the sweep once a run reaches it) is not supported and is ignored");
        return name is null || goal is null ? null : new MetricSpec(name, goal.Value);
    }

    /// <summary>
    /// `baselines: [full, base]`, or a mapping that also gives a baseline its own values of non-LoRA options:
    /// `baselines: { full: { lr: 5.0e-5 }, base: { lr: 1.0e-2 } }` (`full:` alone for none).
    /// </summary>
    private (IReadOnlyList<BaselineKind>, Dictionary<BaselineKind, IReadOnlyList<KeyValuePair<string, JsonNode>>>) Baselines(YNode node, string? model)
    {
        var values = new Dictionary<BaselineKind, IReadOnlyList<KeyValuePair<string, JsonNode>>>();
        if (node is YScalar { IsNull: true }) return ([], values);
        if (node is YMapping map)
        {
            var kinds = new List<BaselineKind>();
            foreach (var (keyNode, valueNode) in map.Entries)
            {
                var text = keyNode is YScalar k && !k.IsNull ? k.Value : null;
                var kind = BaselineKindOf(text);
                if (kind is null) { Add(keyNode, $"baseline must be full or base, got {(text is null ? Describe(keyNode) : $"'{YamlTree.Truncate(text)}'")}"); continue; }
                if (kinds.Contains(kind.Value)) { Add(keyNode, $"baseline '{text}' is given twice"); continue; }
                kinds.Add(kind.Value);
                if (BaselineValues(text!, valueNode, model) is { Count: > 0 } given) values[kind.Value] = given;
            }
            return (kinds, values);
        }
        if (node is not YSequence seq) { Add(node, $"baselines must be a list of full and/or base, or a mapping of them to their own values, got {Describe(node)}"); return ([], values); }
        var result = new List<BaselineKind>();
        foreach (var item in seq.Items)
        {
            var text = String(item, "baseline");
            var kind = BaselineKindOf(text);
            if (text is null) continue;
            if (kind is null) Add(item, $"baseline must be full or base, got '{YamlTree.Truncate(text)}'");
            else if (result.Contains(kind.Value)) Add(item, $"baseline '{text}' is listed twice");
            else result.Add(kind.Value);
        }
        return (result, values);
    }

    private static BaselineKind? BaselineKindOf(string? text) => text switch { "full" => BaselineKind.Full, "base" => BaselineKind.Base, _ => null };

    /// <summary>The option a key names: our own name, or a Hugging Face / PEFT spelling of it (lora_r, learning_rate, ...).</summary>
    private static string OptionName(string key) =>
        TrainingOptions.Aliases.TryGetValue(key, out var alias) ? alias
        : TrainingOptions.FlagAliases.TryGetValue(key, out var flag) ? flag.Key
        : key;

    /// <summary>A flag alias's value (<c>bf16: { value: true }</c>) as its option's (<c>base_dtype: { value: bf16 }</c>); any other key's as it is.</summary>
    private static YNode FlagValues(string key, YNode node)
    {
        if (!TrainingOptions.FlagAliases.TryGetValue(key, out var flag)) return node;
        YNode Map(YNode n)
        {
            switch (n)
            {
                case YScalar { Plain: true } s when s.Value is "true" or "True" or "TRUE":
                    return new YScalar(s.Line, s.Column, flag.WhenTrue, plain: false);
                case YScalar { Plain: true } s when s.Value is "false" or "False" or "FALSE":
                    return new YScalar(s.Line, s.Column, flag.WhenFalse, plain: false);
                case YSequence seq:
                    var copy = new YSequence(seq.Line, seq.Column);
                    copy.Items.AddRange(seq.Items.Select(Map));
                    return copy;
                case YMapping map:
                    var mapped = new YMapping(map.Line, map.Column);
                    mapped.Entries.AddRange(map.Entries.Select(e => (e.Key, Map(e.Value))));
                    return mapped;
                default:
                    return n;
            }
        }
        return Map(node);
    }

    /// <summary>
    /// The trainer option <paramref name="name"/> (see <see cref="OptionName"/>), or null after reporting the key as an
    /// unknown <paramref name="what"/> with the nearest option, or the nearest Hugging Face spelling's option, suggested.
    /// </summary>
    private TrainingOption? KnownOption(YScalar key, string name, string what)
    {
        if (TrainerParameters.All.TryGetValue(name, out var option)) return option;
        // A typo of a Hugging Face spelling ("learnin_rate") is suggested as our name.
        var nearAlias = Suggestions.DidYouMean(key.Value, TrainingOptions.Aliases.Keys) is { } a ? TrainingOptions.Aliases[a] : null;
        Add(key, Suggestions.DidYouMean(key.Value, TrainerParameters.All.Keys, TrainerParameters.Synonyms) is null && nearAlias is not null
            ? $"unknown {what} '{YamlTree.Truncate(key.Value)}' (did you mean '{nearAlias}'?)"
            : Suggestions.UnknownKey(key.Value, TrainerParameters.All.Keys, TrainerParameters.Synonyms).Replace("unknown key", $"unknown {what}"));
        return null;
    }

    /// <summary>One baseline's own values: plain values of options that are not LoRA's (a baseline has no adapter).</summary>
    private List<KeyValuePair<string, JsonNode>> BaselineValues(string baseline, YNode node, string? model)
    {
        var result = new List<KeyValuePair<string, JsonNode>>();
        if (node is YScalar { IsNull: true }) return result;
        if (node is not YMapping map) { Add(node, $"baseline {baseline} takes a mapping of trainer options to values (for example {{ lr: 5.0e-5 }}), got {Describe(node)}"); return result; }
        foreach (var (keyNode, valueNode) in map.Entries)
        {
            if (keyNode is not YScalar key || key.IsNull) { Add(keyNode, $"option names must be plain text, got {Describe(keyNode)}"); continue; }
            var name = OptionName(key.Value);
            if (KnownOption(key, name, $"option in baseline {baseline}") is not { } option) continue;
            if (TrainerParameters.TaskKeys.Contains(name) || option.LoraOnly)
            {
                Add(key, $"baseline {baseline} trains no adapter, so {name} cannot be set for it; its options are the non-LoRA ones (lr, weight_decay, schedule, warmup_steps, batch_size, epochs, ...)");
                continue;
            }
            if (result.Any(kv => kv.Key == name)) { Add(key, $"option '{YamlTree.Truncate(key.Value)}' is given twice in baseline {baseline}"); continue; }
            if (valueNode is YMapping or YSequence && option.Kind is not (OptionKind.StringList or OptionKind.IntList or OptionKind.IntMap or OptionKind.NumberMap))
            {
                Add(valueNode, $"baseline {baseline}: {name} takes one value (a baseline is one trial per swept combination), got {Describe(valueNode)}");
                continue;
            }
            if (Value(option, FlagValues(key.Value, valueNode), model) is { } value) result.Add(new(name, value));
        }
        return result;
    }

    private EarlyTerminationSpec? EarlyTerminate(YNode node)
    {
        if (node is YScalar { IsNull: true }) return null;
        if (node is not YMapping map) { Add(node, $"early_terminate must be a mapping with type asha, hyperband or median, got {Describe(node)}"); return null; }
        if (!map.Entries.Any(e => e.Key is YScalar { Value: "type" })) { Add(map, "early_terminate needs type: asha, hyperband or median"); return null; }
        var typeNode = map.Entries.First(e => e.Key is YScalar { Value: "type" }).Value;
        var type = String(typeNode, "early_terminate.type");
        if (type is "median")
        {
            var k = Keys(map, ["type", "min_trials", "start_iter"], RayTuneNames);
            int minTrials = k.TryGetValue("min_trials", out var mt) ? (int)(Int(mt, "min_trials", 1, SweepFile.MaxRunCap) ?? 1) : 3;
            int startIter = k.TryGetValue("start_iter", out var si) ? (int)(Int(si, "start_iter", 0, SweepFile.MaxIterLimit) ?? 0) : 0;
            return new MedianStopSpec(minTrials, startIter);
        }
        if (type is "asha" or "hyperband")
        {
            var k = Keys(map, type == "hyperband" ? ["type", "min_iter", "max_iter", "eta", "brackets", "s", "strict"] : ["type", "min_iter", "max_iter", "eta", "brackets"],
                RayTuneNames);
            if (k.ContainsKey("s") && k.TryGetValue("brackets", out var both)) Add(both, "give s (W&B's name) or brackets, not both");
            var bracketsNode = k.GetValueOrDefault("s") ?? k.GetValueOrDefault("brackets");
            int minIter = k.TryGetValue("min_iter", out var mi) ? (int)(Int(mi, "min_iter", 1, SweepFile.MaxIterLimit) ?? 1) : 1;
            int eta = k.TryGetValue("eta", out var en) ? (int)(Int(en, "eta", 2, 100) ?? 3) : 3;
            if (k.TryGetValue("strict", out var strict))
            {
                if (!(strict is YScalar { Plain: true } st && TryBool(st.Value, out _))) Add(strict, $"strict must be true or false, got {Written(strict)}");
                else Warn(strict, "hyperband strict (W&B's stricter pruning) has no effect here; rungs prune to the top 1/eta");
            }
            int? maxIter = null;
            if (k.TryGetValue("max_iter", out var ma)) maxIter = (int?)Int(ma, "max_iter", 1, SweepFile.MaxIterLimit);
            else if (type == "hyperband" && k.TryGetValue("min_iter", out _) && bracketsNode is not null && Int(bracketsNode, "s", 1, 20) is { } sGiven)
            {
                // W&B: min_iter and s without max_iter; the rungs are min_iter·eta^k for k < s.
                var top = minIter * Math.Pow(eta, sGiven);
                if (top > SweepFile.MaxIterLimit) { Add(bracketsNode, $"min_iter {minIter} × eta {eta}^s {sGiven} is over {SweepFile.MaxIterLimit} iterations"); return null; }
                maxIter = (int)top;
            }
            else if (type == "hyperband" && k.ContainsKey("min_iter") && bracketsNode is null)
            {
                // W&B's hyperband_stopping with min_iter alone: bands min_iter·eta^k for every k (it lists 100), the same
                // bands for every run: one bracket whose rungs go on as far as any trial reports.
                if (minIter >= SweepFile.MaxIterLimit) { Add(mi!, $"min_iter must be below {SweepFile.MaxIterLimit}, got {minIter}"); return null; }
                return new HyperbandSpec(minIter, SweepFile.MaxIterLimit, eta, 1);
            }
            else
            {
                Add(map, type == "hyperband"
                    ? "early_terminate hyperband needs max_iter (the most evaluations a trial makes), or min_iter (W&B's form: rungs at min_iter·eta^k)"
                    : $"early_terminate {type} needs max_iter (the most evaluations a trial makes)");
            }
            if (maxIter is null) return null;
            if (maxIter <= minIter) { Add(ma ?? map, $"max_iter must be greater than min_iter ({minIter}), got {maxIter}"); return null; }
            int rungs = EarlyStopping.AshaRungs.Milestones(minIter, maxIter.Value, eta, 0).Count;
            int brackets = type == "asha" ? 1 : rungs;
            if (bracketsNode is not null && Int(bracketsNode, k.ContainsKey("s") ? "s" : "brackets", 1, 100) is { } br)
            {
                if (br > rungs) Add(bracketsNode, $"{(k.ContainsKey("s") ? "s" : "brackets")} must be at most {rungs} (the rungs between min_iter {minIter} and max_iter {maxIter} with eta {eta}), got {br}");
                brackets = (int)br;
            }
            return type == "asha" ? new AshaSpec(minIter, maxIter.Value, eta, brackets) : new HyperbandSpec(minIter, maxIter.Value, eta, brackets);
        }
        if (type is not null) Add(typeNode, $"early_terminate.type must be asha, hyperband or median, got '{YamlTree.Truncate(type)}'");
        return null;
    }

    // --- parameters ---------------------------------------------------------------------------------------------

    private IReadOnlyList<KeyValuePair<string, ParameterSpec>> Parameters(YNode node, SweepMethod method, string? model)
    {
        if (node is YScalar { IsNull: true }) return [];
        if (node is not YMapping map) { Add(node, $"parameters must be a mapping of trainer options, got {Describe(node)}"); return []; }
        _parameters = map;
        var result = new List<KeyValuePair<string, ParameterSpec>>();
        var seen = new Dictionary<string, YNode>();
        ReadParameters(map, method, model, result, seen, 0);
        double gridSize = result.Aggregate(1.0, (n, p) => n * (p.Value is ValuesParameter v ? v.Values.Count : 1));
        if (method == SweepMethod.Grid && gridSize > SweepFile.MaxGridTrials)
            Add(map, $"the grid has {gridSize:0} trials; at most {SweepFile.MaxGridTrials} are allowed (split the sweep or use method: random)");
        return result;
    }

    /// <summary>
    /// One parameters map. A W&amp;B nested block (`optimizer: { parameters: { lr: ..., weight_decay: ... } }`) is read as
    /// if its parameters were written at the top: the trainer's options are flat, so the group name only groups.
    /// </summary>
    private void ReadParameters(YMapping map, SweepMethod method, string? model, List<KeyValuePair<string, ParameterSpec>> result,
        Dictionary<string, YNode> seen, int depth)
    {
        foreach (var (keyNode, valueNode) in map.Entries)
        {
            if (keyNode is not YScalar key || key.IsNull) { Add(keyNode, $"parameter names must be plain text, got {Describe(keyNode)}"); continue; }
            if (valueNode is YMapping nested && nested.Entries.Any(e => e.Key is YScalar { Value: "parameters" }))
            {
                if (nested.Entries.Count != 1) Add(nested, $"a nested parameter block ({YamlTree.Truncate(key.Value)}) holds only parameters:");
                var inner = nested.Entries.First(e => e.Key is YScalar { Value: "parameters" }).Value;
                if (inner is not YMapping innerMap) Add(inner, $"parameters of {YamlTree.Truncate(key.Value)} must be a mapping of trainer options, got {Describe(inner)}");
                else if (depth < 8) ReadParameters(innerMap, method, model, result, seen, depth + 1);
                continue;
            }
            var name = OptionName(key.Value);
            if (seen.TryGetValue(name, out var first))
            {
                var also = first is YScalar f && f.Value != key.Value ? $" (as {f.Value})" : "";
                Add(key, $"parameter '{YamlTree.Truncate(key.Value)}' is given twice (first at line {first.Line}{also})");
                continue;
            }
            seen[name] = key;
            if (TrainerParameters.TaskKeys.Contains(name)) { Add(key, $"{name} is set in task.{name}, not as a parameter"); continue; }
            if (KnownOption(key, name, "parameter") is not { } option) continue;
            var spec = Parameter(option, FlagValues(key.Value, valueNode), method, model);
            if (spec is null) continue;
            result.Add(new(name, spec with { Line = key.Line, Column = key.Column }));
        }
    }

    private static readonly string[] ParameterKeys = ["value", "values", "distribution", "min", "max", "q", "mu", "sigma", "probabilities", "per_rank"];

    private ParameterSpec? Parameter(TrainingOption option, YNode node, SweepMethod method, string? model)
    {
        var key = option.Key;
        if (node is not YMapping map)
        {
            Add(node, $"parameter {key} must be a mapping: {{ value: x }}, {{ values: [a, b] }} or {{ distribution: ..., min: ..., max: ... }}; got {Describe(node)}");
            return null;
        }
        int before = Problems.Count;
        var k = Keys(map, ParameterKeys, null);
        string? distText = k.TryGetValue("distribution", out var dn) ? String(dn, "distribution") : null;
        if (dn is not null && distText is null) return null;
        if (distText == "constant")
        {
            // W&B's { distribution: constant, value: x } is value: x.
            if (!k.TryGetValue("value", out var cv)) { Add(map, $"constant distribution of {key} needs value"); return null; }
            k.Remove("distribution");
            dn = null;
            distText = null;
        }
        // W&B infers the distribution from min and max: integers give int_uniform, otherwise uniform.
        bool inferred = false;
        if (distText is null && !k.ContainsKey("value") && !k.ContainsKey("values") && k.ContainsKey("min") && k.ContainsKey("max"))
        {
            distText = k["min"] is YScalar { Plain: true } a && IntPattern().IsMatch(a.Value) && k["max"] is YScalar { Plain: true } b && IntPattern().IsMatch(b.Value)
                ? "int_uniform" : "uniform";
            inferred = true;
        }
        // values with probabilities is a categorical distribution.
        if (distText is null && k.ContainsKey("values") && k.ContainsKey("probabilities") && method != SweepMethod.Grid) distText = "categorical";
        int forms = (k.ContainsKey("value") ? 1 : 0) + (distText is not null ? 1 : 0) + (k.ContainsKey("values") && distText is null ? 1 : 0)
            + (k.ContainsKey("per_rank") ? 1 : 0);
        if (forms != 1)
        {
            if (forms == 0 && Problems.Count > before) return null; // the unknown key said it already
            Add(map, $"parameter {key} needs exactly one of value, values or distribution{(key == "alpha" ? " (or per_rank)" : "")}");
            return null;
        }
        if (k.TryGetValue("per_rank", out var pr))
        {
            // alpha = per_rank x rank: a constant scaling alpha/r whatever the rank (the rank study's "alpha 1": B A added unscaled).
            if (key != "alpha") { Add(pr, $"per_rank only applies to alpha, not {key}"); return null; }
            foreach (var extra in new[] { "min", "max", "q", "mu", "sigma", "probabilities" }) if (k.TryGetValue(extra, out var x)) Add(x, $"{extra} has no meaning next to per_rank");
            if (pr is not YScalar prs || !double.TryParse(prs.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var factor)
                || !double.IsFinite(factor) || factor <= 0)
            {
                Add(pr, $"alpha per_rank must be a finite number > 0, got {Describe(pr)}");
                return null;
            }
            return new PerRankParameter(factor);
        }
        if (distText is null && k.TryGetValue("value", out var vn))
        {
            foreach (var extra in new[] { "values", "min", "max", "q", "mu", "sigma", "probabilities" }) if (k.TryGetValue(extra, out var x)) Add(x, $"{extra} has no meaning next to value in parameter {key}");
            return Value(option, vn, model) is { } v ? new FixedParameter(v) : null;
        }
        if (distText is null)
        {
            foreach (var extra in new[] { "min", "max", "q", "mu", "sigma" }) if (k.TryGetValue(extra, out var x)) Add(x, $"{extra} needs a distribution in parameter {key}");
            if (k.TryGetValue("probabilities", out var pg)) Warn(pg, "a grid lists every value; probabilities are ignored");
            var values = ValueList(option, k["values"], model);
            return values is null ? null : new ValuesParameter(values);
        }

        var at = dn ?? map;
        if (!DistributionNames.ByName.TryGetValue(distText, out var dist))
        {
            Add(at, $"distribution must be one of constant, {string.Join(", ", DistributionNames.ByName.Keys)}, got '{YamlTree.Truncate(distText)}'");
            return null;
        }
        var shown = inferred ? $"{distText} (inferred from min and max)" : distText;
        if (method == SweepMethod.Grid && dist is not (DistributionKind.IntUniform or DistributionKind.QUniform or DistributionKind.Categorical))
        {
            Add(at, $"parameter {key} has a {shown} distribution, which a grid cannot enumerate: a grid takes value, values, categorical, int_uniform "
                + "(every integer from min to max) or q_uniform (min, min + q, ... below max, as W&B's grid); use method: random or bayes, or list values");
            return null;
        }
        double q = 1;
        if (k.TryGetValue("q", out var qn))
        {
            if (!dist.IsQuantised()) Add(qn, $"q has no meaning for a {distText} distribution (use q_{distText.Replace("int_", "")})");
            else if (Number(qn, $"{key} q") is { } qv)
            {
                if (!(double.IsFinite(qv) && qv > 0)) Add(qn, $"q must be a finite number > 0, got {Written(qn)}");
                q = qv;
            }
        }
        if (!option.Supports(dist, q))
        {
            Add(at, option.Kind == OptionKind.Int
                ? $"{key} takes integers; use distribution int_uniform, a q_ distribution with a whole q, or categorical, not {distText}"
                : $"{key} is not numeric; use distribution categorical with values");
            return null;
        }
        if (dist == DistributionKind.Categorical)
        {
            foreach (var extra in new[] { "min", "max", "q", "mu", "sigma" }) if (k.TryGetValue(extra, out var x)) Add(x, $"{extra} has no meaning for a categorical distribution");
            if (!k.TryGetValue("values", out var cv)) { Add(map, $"categorical distribution of {key} needs values"); return null; }
            var values = ValueList(option, cv, model);
            if (values is null) return null;
            IReadOnlyList<double>? probabilities = null;
            if (k.TryGetValue("probabilities", out var pn) && (probabilities = Probabilities(pn, values.Count)) is null) return null;
            if (method == SweepMethod.Grid)
            {
                // W&B's grid lists a categorical's values and refuses its probabilities.
                if (pn is not null) { Add(pn, $"a grid lists every value of {key}; probabilities have no meaning there (use method: random)"); return null; }
                return new ValuesParameter(values);
            }
            return new DistributionParameter(DistributionKind.Categorical, 0, 0, 0, values) { Probabilities = probabilities };
        }
        foreach (var extra in new[] { "values", "probabilities" })
            if (k.TryGetValue(extra, out var stray)) Add(stray, $"{extra} has no meaning for a {distText} distribution");
        if (dist.IsNormal())
        {
            foreach (var extra in new[] { "min", "max" }) if (k.TryGetValue(extra, out var x)) Add(x, $"{extra} has no meaning for a {distText} distribution (it takes mu and sigma)");
            double mu = k.TryGetValue("mu", out var mun) ? Number(mun, $"{key} mu") ?? double.NaN : 0;
            double sigma = k.TryGetValue("sigma", out var sn) ? Number(sn, $"{key} sigma") ?? double.NaN : 1;
            if (double.IsNaN(mu) || double.IsNaN(sigma)) return null;
            if (!double.IsFinite(mu)) { Add(mun!, $"mu must be a finite number, got {Written(mun!)}"); return null; }
            if (!(double.IsFinite(sigma) && sigma > 0)) { Add(sn!, $"sigma must be a finite number > 0, got {Written(sn!)}"); return null; }
            // The centre must be a value the option takes; draws outside its range are drawn again (see ParameterDraws).
            var centre = dist.IsLog() ? Math.Exp(mu) : mu;
            if (option.Kind == OptionKind.Number && option.CheckNumber(centre, Written(mun ?? map)) is { } bad) { Add(mun ?? map, bad + (dist.IsLog() ? " (as exp(mu))" : "")); return null; }
            return new DistributionParameter(dist, 0, 0, q, []) { Mu = mu, Sigma = sigma };
        }
        foreach (var extra in new[] { "mu", "sigma" }) if (k.TryGetValue(extra, out var x)) Add(x, $"{extra} has no meaning for a {distText} distribution (it takes min and max)");
        bool integer = dist == DistributionKind.IntUniform;
        bool exponents = dist is DistributionKind.LogUniform or DistributionKind.QLogUniform;
        double? Bound(string which)
        {
            if (!k.TryGetValue(which, out var bnode)) { Add(map, $"{distText} distribution of {key} needs {which}"); return null; }
            if (integer)
            {
                var i = Int(bnode, $"{key} {which}", long.MinValue, long.MaxValue);
                if (i is null) return null;
                if (option.Kind == OptionKind.Int && option.CheckInt(i.Value, Written(bnode)) is { } bad) { Add(bnode, bad); return null; }
                if (option.Kind == OptionKind.Number && option.CheckNumber(i.Value, Written(bnode)) is { } badn) { Add(bnode, badn); return null; }
                return i;
            }
            var n = Number(bnode, $"{key} {which}");
            if (n is null) return null;
            if (exponents)
            {
                // W&B's log_uniform takes exponents of e: min -9.2 is exp(-9.2) ≈ 1e-4.
                if (!double.IsFinite(n.Value) || Math.Abs(n.Value) > 700) { Add(bnode, $"{distText} takes exponents of e; {which} must be a finite number from -700 to 700, got {Written(bnode)}"); return null; }
                if (option.Kind == OptionKind.Number && option.CheckNumber(Math.Exp(n.Value), $"exp({Written(bnode)})") is { } badLog)
                {
                    Add(bnode, badLog + " (log_uniform bounds are exponents of e; log_uniform_values takes the values)");
                    return null;
                }
                return n;
            }
            if (option.Kind == OptionKind.Int)
            {
                if (option.CheckInt((long)Math.Round(n.Value), Written(bnode)) is { } badInt) { Add(bnode, badInt); return null; }
            }
            else if (option.CheckNumber(n.Value, Written(bnode)) is { } problem) { Add(bnode, problem); return null; }
            return n;
        }
        var min = Bound("min");
        var max = Bound("max");
        if (min is null || max is null) return null;
        if (!(min < max)) { Add(k["max"], $"distribution of {key} needs min < max, got min {Written(k["min"])} and max {Written(k["max"])}"); return null; }
        if (dist is DistributionKind.QUniform && q > max - min)
        {
            Add(k.GetValueOrDefault("q") ?? map, $"q {q.ToString(CultureInfo.InvariantCulture)}{(k.ContainsKey("q") ? "" : " (the default)")} is wider than min {Written(k["min"])} to max {Written(k["max"])}: every draw would round to the same few values; give a smaller q");
            return null;
        }
        if (dist is DistributionKind.LogUniformValues or DistributionKind.QLogUniformValues or DistributionKind.InvLogUniformValues && min <= 0)
        {
            Add(k["min"], $"{distText} needs min > 0, got {Written(k["min"])}");
            return null;
        }
        if (method == SweepMethod.Grid) return Problems.Count > before ? null : GridValues(option, dist, min.Value, max.Value, q, k.GetValueOrDefault("min") ?? map);
        return new DistributionParameter(dist, min.Value, max.Value, dist.IsQuantised() ? q : 0, []);
    }

    /// <summary>
    /// W&amp;B's grid over a bounded distribution (grid_search.py): int_uniform is every integer of range(min, max + 1);
    /// q_uniform is numpy's arange(min, max, q), max left out, its values computed as numpy does (min, then
    /// min + i·((min + q) − min)), so the floats are the bits W&amp;B's agent would pass.
    /// </summary>
    private ValuesParameter? GridValues(TrainingOption option, DistributionKind dist, double min, double max, double q, YNode at)
    {
        var integer = dist == DistributionKind.IntUniform;
        var count = integer ? max - min + 1 : Math.Ceiling((max - min) / q);
        if (count > SweepFile.MaxGridTrials)
        {
            Add(at, $"{(integer ? "int_uniform" : "q_uniform")} of {option.Key} from {Show(min)} to {Show(max)}{(integer ? "" : $" by {Show(q)}")} "
                + $"gives {count:0} grid values; a grid has at most {SweepFile.MaxGridTrials} trials (use method: random, or a larger q)");
            return null;
        }
        var values = new List<JsonNode>((int)count);
        var step = integer ? 1 : (min + q) - min;
        for (var i = 0; i < (int)count; i++)
        {
            var value = i == 0 ? min : i == 1 && !integer ? min + q : min + i * step;
            if (option.Kind == OptionKind.Int)
            {
                if (value != Math.Floor(value))
                {
                    Add(at, $"{option.Key} takes integers, and q_uniform from {Show(min)} by {Show(q)} gives {Show(value)}; give an integer min");
                    return null;
                }
                values.Add(JsonValue.Create((long)value));
            }
            else values.Add(JsonValue.Create(value));
        }
        return new ValuesParameter(values);
    }

    private static string Show(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>W&amp;B's categorical probabilities: one weight ≥ 0 per value, summing to 1.</summary>
    private IReadOnlyList<double>? Probabilities(YNode node, int count)
    {
        if (node is not YSequence seq) { Add(node, $"probabilities must be a list of numbers, got {Describe(node)}"); return null; }
        if (seq.Items.Count != count) { Add(node, $"probabilities lists {seq.Items.Count} numbers for {count} values; give one per value"); return null; }
        var result = new List<double>();
        foreach (var item in seq.Items)
        {
            if (Number(item, "probability") is not { } p) return null;
            if (!(double.IsFinite(p) && p >= 0)) { Add(item, $"a probability must be a finite number ≥ 0, got {Written(item)}"); return null; }
            result.Add(p);
        }
        var sum = result.Sum();
        if (Math.Abs(sum - 1) > 1e-6) { Add(node, $"probabilities must sum to 1, got {sum.ToString("0.######", CultureInfo.InvariantCulture)}"); return null; }
        return result;
    }

    private List<JsonNode>? ValueList(TrainingOption option, YNode node, string? model)
    {
        // W&B reads a scalar (values: 3) as one value.
        if (node is YScalar { IsNull: false } single) node = Wrap(single);
        if (node is not YSequence seq) { Add(node, $"values of {option.Key} must be a list, got {Describe(node)}"); return null; }
        if (seq.Items.Count == 0) { Add(node, $"values of {option.Key} is empty; list at least one value"); return null; }
        var result = new List<JsonNode>();
        bool ok = true;
        foreach (var item in seq.Items)
        {
            // A list option (target_modules) given a plain name in values means a one-module list.
            var value = option.Kind is OptionKind.StringList or OptionKind.IntList && item is YScalar sc && !sc.IsNull
                ? Value(option, Wrap(sc), model)
                : Value(option, item, model);
            if (value is null) ok = false;
            else result.Add(value);
        }
        return ok ? result : null;
    }

    private static YSequence Wrap(YScalar s)
    {
        var seq = new YSequence(s.Line, s.Column);
        seq.Items.Add(s);
        return seq;
    }

    /// <summary>Converts one YAML value into the JSON the trainer option takes, checking its rule.</summary>
    private JsonNode? Value(TrainingOption option, YNode node, string? model)
    {
        var key = option.Key;
        switch (option.Kind)
        {
            case OptionKind.Int:
            {
                var v = Int(node, key, option.MinInt, option.MaxInt);
                return v is null ? null : JsonValue.Create(v.Value);
            }
            case OptionKind.Number:
            {
                var v = Number(node, key);
                if (v is null) return null;
                if (option.CheckNumber(v.Value, Written(node)) is { } bad) { Add(node, bad); return null; }
                return JsonValue.Create(v.Value);
            }
            case OptionKind.Bool:
            {
                if (node is YScalar { Plain: true } s && TryBool(s.Value, out var b)) return JsonValue.Create(b);
                Add(node, $"{key} must be true or false, got {Written(node)}");
                return null;
            }
            case OptionKind.String:
            {
                // PEFT's init_lora_weights: true is our kaiming; Hugging Face's constant_with_warmup is our constant (it warms up too).
                if (key == "init" && node is YScalar { Plain: true } iv && TryBool(iv.Value, out var initFlag) && initFlag) return JsonValue.Create(InitModes.Kaiming);
                if (key == "schedule" && node is YScalar { Value: "constant_with_warmup" }) return JsonValue.Create(Schedules.Constant);
                var s = String(node, key);
                if (s is null) return null;
                if (option.CheckString(s) is { } need)
                {
                    Add(node, $"{key} must be {need}, got '{YamlTree.Truncate(s)}'");
                    return null;
                }
                return JsonValue.Create(s);
            }
            case OptionKind.StringList:
            {
                if (node is not YSequence seq) { Add(node, $"{key} must be a list of names, got {Describe(node)}"); return null; }
                if (seq.Items.Count == 0) { Add(node, $"{key} must name at least one module"); return null; }
                var arr = new JsonArray();
                bool ok = true;
                foreach (var item in seq.Items)
                {
                    var s = String(item, key);
                    if (s is null) { ok = false; continue; }
                    if (key == "target_modules" && !TargetModuleKnown(item, s, model, seq.Items.Count)) { ok = false; continue; }
                    if (arr.Any(x => (string)x! == s)) { Add(item, $"{key} lists '{YamlTree.Truncate(s)}' twice"); ok = false; continue; }
                    arr.Add(s);
                }
                return ok ? arr : null;
            }
            case OptionKind.IntList:
            {
                if (node is not YSequence seq) { Add(node, $"{key} must be a list of integers, got {Describe(node)}"); return null; }
                var arr = new JsonArray();
                bool ok = true;
                foreach (var item in seq.Items)
                {
                    var v = Int(item, $"{key} entry", option.MinInt, option.MaxInt);
                    if (v is null) ok = false; else arr.Add(v.Value);
                }
                return ok ? arr : null;
            }
            default:
            {
                if (node is not YMapping map) { Add(node, $"{key} must be a mapping of module name to value, got {Describe(node)}"); return null; }
                var obj = new JsonObject();
                bool ok = true;
                foreach (var (kn, vn) in map.Entries)
                {
                    var name = String(kn, $"{key} key");
                    if (name is null || obj.ContainsKey(name)) { if (name is not null) Add(kn, $"{key} lists '{name}' twice"); ok = false; continue; }
                    if (option.Kind == OptionKind.IntMap)
                    {
                        var v = Int(vn, $"{key} value", option.MinInt, option.MaxInt);
                        if (v is null) ok = false; else obj[name] = v.Value;
                    }
                    else
                    {
                        var v = Number(vn, $"{key} value");
                        if (v is null) ok = false;
                        else if (option.CheckNumber(v.Value) is { } need) { Add(vn, $"{key} value must be {need}, got {Written(vn)}"); ok = false; }
                        else obj[name] = v.Value;
                    }
                }
                return ok ? obj : null;
            }
        }
    }

    private bool TargetModuleKnown(YNode at, string module, string? model, int count)
    {
        if (module == "all-linear")
        {
            if (count == 1) return true;
            Add(at, "all-linear must be the only entry of target_modules");
            return false;
        }
        if (model is null || TrainingOptions.TargetableModules(model) is not { } known) return true;
        if (known.Contains(module) || known.Any(k => k.EndsWith("." + module, StringComparison.Ordinal))) return true;
        var names = known.Concat(known.Select(k => k[(k.LastIndexOf('.') + 1)..])).Distinct(StringComparer.Ordinal).ToList();
        var hint = Suggestions.DidYouMean(module, names) is { } s ? $" (did you mean '{s}'?)" : "";
        Add(at, $"unknown target module '{YamlTree.Truncate(module)}' for model {model}; its linear modules are {TrainingOptions.DescribeModules(known)} (or all-linear){hint}");
        return false;
    }

    // --- scalars ------------------------------------------------------------------------------------------------

    private Dictionary<string, YNode> Keys(YMapping map, string[] allowed, IReadOnlyDictionary<string, string>? synonyms,
        IReadOnlyDictionary<string, string>? ignored = null)
    {
        var result = new Dictionary<string, YNode>(StringComparer.Ordinal);
        var keyNodes = new Dictionary<string, YNode>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Entries)
        {
            if (k is not YScalar key || key.IsNull) { Add(k, $"keys must be plain names, got {Describe(k)}"); continue; }
            if (ignored is not null && ignored.TryGetValue(key.Value, out var why))
            {
                Warn(k, $"'{key.Value}' is ignored: it is W&B's ({why})");
                continue;
            }
            if (!allowed.Contains(key.Value))
            {
                Add(k, allowed.Contains("parameters") && TrainerParameters.All.ContainsKey(key.Value)
                    ? $"unknown key '{key.Value}' (trainer options such as {key.Value} go under parameters:)"
                    : Suggestions.UnknownKey(key.Value, allowed, synonyms ?? TrainerParameters.Synonyms));
                continue;
            }
            if (keyNodes.TryGetValue(key.Value, out var first)) { Add(k, $"key '{key.Value}' is given twice (first at line {first.Line})"); continue; }
            keyNodes[key.Value] = k;
            result[key.Value] = v;
        }
        return result;
    }

    private string? RequiredString(YMapping map, Dictionary<string, YNode> keys, string key, string? label = null)
    {
        if (keys.TryGetValue(key, out var node)) return String(node, label ?? key);
        Add(map, $"missing key '{label ?? key}'");
        return null;
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

    private string? String(YNode node, string what)
    {
        if (node is YScalar s && !s.IsNull) return s.Value;
        if (what.Length > 0) Add(node, $"{what} must be text, got {Describe(node)}");
        return null;
    }

    private long? Int(YNode node, string what, long min, long max)
    {
        string Need() => min == long.MinValue ? "an integer" : max >= int.MaxValue ? $"an integer ≥ {min}" : $"an integer from {min} to {max}";
        if (node is not YScalar { Plain: true } s || !IntPattern().IsMatch(s.Value))
        {
            Add(node, $"{what} must be {Need()}, got {Written(node)}");
            return null;
        }
        if (!long.TryParse(s.Value.Replace("_", ""), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
        {
            Add(node, $"{what} must be {Need()}, got {Written(node)} (too large)");
            return null;
        }
        if (v < min) { Add(node, $"{what} must be an integer ≥ {min}, got {Written(node)}"); return null; }
        if (v > max) { Add(node, $"{what} must be an integer ≤ {max}, got {Written(node)}"); return null; }
        return v;
    }

    private double? Number(YNode node, string what)
    {
        if (node is YScalar { Plain: true } s)
        {
            switch (s.Value)
            {
                case ".nan" or ".NaN" or ".NAN": return double.NaN;
                case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF": return double.PositiveInfinity;
                case "-.inf" or "-.Inf" or "-.INF": return double.NegativeInfinity;
            }
            if (NumberPattern().IsMatch(s.Value) && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return v;
        }
        Add(node, $"{what} must be a number, got {Written(node)}");
        return null;
    }

    private static bool TryBool(string text, out bool value)
    {
        value = text is "true" or "True" or "TRUE";
        return value || text is "false" or "False" or "FALSE";
    }

    /// <summary>The value as the user wrote it, for messages.</summary>
    private static string Written(YNode node) => node switch
    {
        YScalar { IsNull: true } => "nothing",
        YScalar { Plain: true } s => YamlTree.Truncate(s.Value),
        YScalar s => $"'{YamlTree.Truncate(s.Value)}' (quoted text)",
        _ => Describe(node),
    };

    private static string Describe(YNode node) => node switch
    {
        YScalar { IsNull: true } => "nothing",
        YScalar { Plain: true } s => $"'{YamlTree.Truncate(s.Value)}'",
        YScalar s => $"'{YamlTree.Truncate(s.Value)}' (quoted text)",
        YSequence => "a list",
        YMapping => "a mapping",
        _ => "an unknown node",
    };

    [GeneratedRegex("^[-+]?[0-9][0-9_]*$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex NumberPattern();
}
