
namespace Orchestrator.Sweeps;

/// <summary>`metric:` / `metrics:`: the objectives, their aliases, and the check that every trial reports them.</summary>
internal sealed partial class SweepReader
{
    /// <summary>No metric (allowed for grid and random, as in W&amp;B): rank by the task's loss, lower is better.</summary>
    private MetricSpec DefaultMetric(TaskSpec task, YMapping top)
    {
        var reported = MetricNames.ReportedBy(task.Model, task.Dataset, AdapterKind.Lora);
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

    private void CheckMetric(SweepSpec spec, IReadOnlyList<AdapterKind> kinds, YMapping top)
    {
        foreach (var objective in spec.Objectives.Count > 0 ? spec.Objectives : [spec.Metric])
        {
            if (SystemObjectives.All.Contains(objective.Name)) continue; // every trial has them
            CheckMetric(spec, objective.Name, kinds, top);
        }
    }

    private void CheckMetric(SweepSpec spec, string name, IReadOnlyList<AdapterKind> kinds, YMapping top)
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
            Add(at, $"unknown metric '{YamlTree.Truncate(name)}': {string.Join(" and ", kinds.Select(k => k.ConfigName()))} trials of {spec.Task.Model} on {spec.Task.Dataset} report {string.Join(", ", known)}{hint}"
                + (spec.Objectives.Count > 1 ? $"; every trial also has {string.Join(", ", SystemObjectives.All)}" : ""));
            return;
        }
        var silent = kinds.Except(reporting).ToList();
        if (silent.Count > 0)
            Warnings.Add(new SweepProblem(file, at.Line, at.Column,
                $"metric '{name}' is not reported by {string.Join(" and ", silent.Select(k => k.ConfigName()))} trials (only by {string.Join(" and ", reporting.Select(k => k.ConfigName()))}); they will have no score"));
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
}
