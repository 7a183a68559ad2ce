using System.Globalization;
using System.Text;

namespace Orchestrator.TestServers;

/// <summary>
/// The sweep file integration tests submit: tiny real MNIST LoRA trials on the mlp over one shared pretrained base
/// (one epoch, as sweeps/mnist-smoke.yaml), written once here so each test states only what it varies. Values that
/// are YAML (lists, flow maps) are given as YAML text.
/// </summary>
public sealed record MnistTestSweep(string Name)
{
    public string? Description { get; init; }
    public long Seed { get; init; } = 1;
    public int Parallel { get; init; } = 1;
    /// <summary>Retries per trial (null: the file's default).</summary>
    public int? MaxFailures { get; init; }
    /// <summary>`baselines:` as YAML, e.g. <c>[full]</c>.</summary>
    public string? Baselines { get; init; }
    /// <summary>`early_terminate:` as YAML, e.g. <c>{ type: asha, min_iter: 1, max_iter: 9, eta: 3 }</c>.</summary>
    public string? EarlyTerminate { get; init; }
    /// <summary>`pack:` (null: not set, every trial alone).</summary>
    public string? Pack { get; init; }

    public string Rank { get; init; } = "{ values: [1, 2, 4, 8] }";
    /// <summary>The `lr:` parameter (null: left out, the trainer's default).</summary>
    public string? Lr { get; init; } = "{ value: 1.0e-3 }";
    /// <summary>The `seed:` parameter (null: one seed per trial from the sweep's).</summary>
    public string? Seeds { get; init; }
    public int BatchSize { get; init; } = 64;
    public int MaxSteps { get; init; } = 20;
    /// <summary>Steps between evaluations (null: once, at <see cref="MaxSteps"/>).</summary>
    public int? EvalEvery { get; init; }
    public int? CheckpointEvery { get; init; }
    /// <summary>More `parameters:` entries, one per line (e.g. <c>grad_clip: { value: 0 }</c>).</summary>
    public IReadOnlyList<string> ExtraParameters { get; init; } = [];

    /// <summary>Ranks 1..<paramref name="count"/> as a `values:` list.</summary>
    public static string RankValues(int count) => $"{{ values: [{string.Join(", ", Enumerable.Range(1, count))}] }}";

    public string Yaml
    {
        get
        {
            var yaml = new StringBuilder();
            void Line(string text) => yaml.Append(text).Append('\n');
            void Optional(string key, object? value)
            {
                if (value is not null) Line(string.Create(CultureInfo.InvariantCulture, $"{key}: {value}"));
            }

            Line($"name: {Name}");
            Optional("description", Description);
            Line(string.Create(CultureInfo.InvariantCulture, $"seed: {Seed}"));
            Line("task:");
            Line("  model: mlp");
            Line("  dataset: mnist");
            Line("  base: { pretrain: { epochs: 1, lr: 1.0e-3, batch_size: 256 } }");
            Line("metric: { name: test_accuracy, goal: maximize }");
            Line("method: grid");
            Optional("parallel", Parallel);
            Optional("max_failures", MaxFailures);
            Optional("baselines", Baselines);
            Optional("early_terminate", EarlyTerminate);
            Optional("pack", Pack);
            Line("parameters:");
            Line($"  rank: {Rank}");
            Line("  alpha: { value: 4 }");
            Line("  target_modules: { value: [l1, l2, l3] }");
            Optional("  lr", Lr);
            Optional("  seed", Seeds);
            Line(string.Create(CultureInfo.InvariantCulture, $"  batch_size: {{ value: {BatchSize} }}"));
            Line(string.Create(CultureInfo.InvariantCulture, $"  max_steps: {{ value: {MaxSteps} }}"));
            Line(string.Create(CultureInfo.InvariantCulture, $"  eval_every: {{ value: {EvalEvery ?? MaxSteps} }}"));
            if (CheckpointEvery is { } every) Line(string.Create(CultureInfo.InvariantCulture, $"  checkpoint_every: {{ value: {every} }}"));
            foreach (var extra in ExtraParameters) Line("  " + extra);
            return yaml.ToString();
        }
    }

    /// <summary>Writes <c>{Name}.yaml</c> into <paramref name="directory"/> and returns its path.</summary>
    public string WriteTo(string directory)
    {
        var path = Path.Combine(directory, Name + ".yaml");
        File.WriteAllText(path, Yaml);
        return path;
    }
}
