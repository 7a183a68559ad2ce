namespace Orchestrator.Trials.Metrics;

/// <summary>A metric name read as one of ours, and why, for the warning that says so.</summary>
public sealed record MetricAlias(string Written, string Name, string Why);

/// <summary>
/// The one table of metric names other programs log (Hugging Face's Trainer: eval_loss, eval_accuracy, and in W&amp;B
/// train/loss, eval/loss; Keras and Lightning: val_loss, val_acc, validation_loss), read as the metrics our trials report.
/// A name is split + measure:
/// <list type="bullet">
/// <item>eval splits (eval_, eval/, val_, val/, valid_, valid/, validation_, validation/) are the validation split's
/// metric where the task has one (text classification reports val_*), else the test split's: a task without a validation
/// split scores its test split at every evaluation during training, so test_* is what an eval metric means there;</item>
/// <item>test_, test/ are test_*; train_, train/, training_, training/ with loss are train_loss;</item>
/// <item>measures: loss; accuracy, acc; macro_f1, f1_macro; mse; perplexity, ppl.</item>
/// </list>
/// A bare measure (loss, accuracy) is not read: the Trainer and Keras log the training loss as `loss`, so which split is
/// meant cannot be told; <see cref="Suggestions"/> offers the test metric as a "did you mean" instead.
/// </summary>
public static class MetricAliases
{
    private enum Split { Eval, Test, Train }

    private static readonly (string Prefix, Split Split)[] Prefixes =
    [
        ("eval_", Split.Eval), ("eval/", Split.Eval), ("val_", Split.Eval), ("val/", Split.Eval), ("valid_", Split.Eval),
        ("valid/", Split.Eval), ("validation_", Split.Eval), ("validation/", Split.Eval),
        ("test_", Split.Test), ("test/", Split.Test),
        ("train_", Split.Train), ("train/", Split.Train), ("training_", Split.Train), ("training/", Split.Train),
    ];

    private static readonly Dictionary<string, string> Measures = new(StringComparer.Ordinal)
    {
        ["loss"] = "loss", ["accuracy"] = "accuracy", ["acc"] = "accuracy", ["macro_f1"] = "macro_f1", ["f1_macro"] = "macro_f1",
        ["mse"] = "mse", ["perplexity"] = "perplexity", ["ppl"] = "perplexity",
    };

    /// <summary>Bare measures, too ambiguous to read (see the class summary): suggested as the test metric only.</summary>
    public static readonly IReadOnlyDictionary<string, string> Suggestions = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["accuracy"] = MetricNames.TestAccuracy, ["acc"] = MetricNames.TestAccuracy, ["loss"] = MetricNames.TestLoss,
        ["mse"] = MetricNames.TestMse, ["perplexity"] = MetricNames.TestPerplexity, ["ppl"] = MetricNames.TestPerplexity,
        ["macro_f1"] = MetricNames.TestMacroF1, ["f1"] = MetricNames.TestMacroF1,
    };

    /// <summary>
    /// The metric <paramref name="written"/> means for trials of <paramref name="task"/> (null: a task only loading its
    /// dataset tells, read as the test split, which every task reports), or null when it is one of ours as written or
    /// not in the table. Matching ignores case, as the names these programs log vary in it.
    /// </summary>
    public static MetricAlias? Resolve(string written, TaskKind? task)
    {
        ArgumentNullException.ThrowIfNull(written);
        var lower = written.ToLowerInvariant();
        foreach (var (prefix, split) in Prefixes)
        {
            if (!lower.StartsWith(prefix, StringComparison.Ordinal) || !Measures.TryGetValue(lower[prefix.Length..], out var measure)) continue;
            if (split == Split.Train)
                return measure == "loss" && written != MetricNames.TrainLoss ? new(written, MetricNames.TrainLoss, "the training loss") : null;
            var validated = task is { } t ? MetricNames.Validated(t) : [];
            var name = split == Split.Eval && validated.Contains("val_" + measure) ? "val_" + measure : "test_" + measure;
            if (name == written) return null;
            if (task is { } known && !MetricNames.Evaluated(known).Contains(name) && !validated.Contains(name)) return null; // not this task's: "unknown metric" says what is
            var why = split == Split.Test ? "the test split's"
                : name.StartsWith("val_", StringComparison.Ordinal) ? "the validation split's, scored at every evaluation"
                : task is null ? "the test split's: the task is only known once its dataset loads, and every task reports test metrics"
                : validated.Count > 0 ? $"the test split's: {Describe(task.Value)} measures {measure} on the test split only"
                : $"the test split's: {Describe(task.Value)} has no validation split, so every evaluation during training scores the test split";
            return new(written, name, why);
        }
        return null;
    }

    private static string Describe(TaskKind task) => task switch
    {
        TaskKind.Classification => "image classification",
        TaskKind.Regression => "regression",
        TaskKind.CausalLm => "causal language modelling",
        TaskKind.InstructionTuning or TaskKind.InstructionLabels => "instruction tuning",
        _ => task.ToString(),
    };
}
