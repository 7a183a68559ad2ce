using System.Globalization;

namespace Orchestrator.Sweeps;

/// <summary>`parameters:`: each swept option as a fixed value, a list, or a distribution.</summary>
internal sealed partial class SweepReader
{
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
}
