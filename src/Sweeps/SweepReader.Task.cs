
namespace Orchestrator.Sweeps;

/// <summary>`task:`: model, dataset, and the base (pretraining or a checkpoint).</summary>
internal sealed partial class SweepReader
{
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
}
