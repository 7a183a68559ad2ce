using System.Globalization;

namespace Orchestrator.Reliability.Tests;

/// <summary>
/// A small MNIST sweep for fault tests: LoRA trials of <paramref name="steps"/> steps that checkpoint every
/// <paramref name="checkpointEvery"/>, so a fault lands mid-training and a resume point exists.
/// </summary>
public sealed record TestSweep(string Name, int Ranks = 4, int Steps = 1000, int CheckpointEvery = 100, int Parallel = 3, int MaxFailures = 1)
{
    /// <summary>Extra `parameters:` entries, one per line (e.g. <c>grad_clip: { value: 0 }</c>).</summary>
    public IReadOnlyList<string> ExtraParameters { get; init; } = [];

    public string Lr { get; init; } = "{ value: 1.0e-3 }";

    /// <summary>The sweep's `pack` (null: not set, every trial alone).</summary>
    public string? Pack { get; init; }

    public string Yaml => string.Create(CultureInfo.InvariantCulture, $$"""
        name: {{Name}}
        description: reliability suite
        seed: 7
        task:
          model: mlp
          dataset: mnist
          base: { pretrain: { epochs: 1, lr: 1.0e-3, batch_size: 256 } }
        metric: { name: test_accuracy, goal: maximize }
        method: grid
        parallel: {{Parallel}}
        max_failures: {{MaxFailures}}
        {{(Pack is null ? "" : "pack: " + Pack)}}
        parameters:
          rank: { values: [{{string.Join(", ", Enumerable.Range(1, Ranks))}}] }
          alpha: { value: 4 }
          target_modules: { value: [l1, l2, l3] }
          lr: {{Lr}}
          batch_size: { value: 64 }
          max_steps: { value: {{Steps}} }
          eval_every: { value: {{Steps}} }
          checkpoint_every: { value: {{CheckpointEvery}} }

        """) + string.Concat(ExtraParameters.Select(line => "  " + line + "\n"));

    public string WriteTo(string directory)
    {
        var path = Path.Combine(directory, Name + ".yaml");
        File.WriteAllText(path, Yaml);
        return path;
    }
}
