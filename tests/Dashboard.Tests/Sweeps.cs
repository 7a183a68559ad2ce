namespace Orchestrator.Dashboard.Tests;

/// <summary>Sweep files the tests submit: real (tiny) MNIST LoRA trials.</summary>
public static class Sweeps
{
    /// <summary>4 short trials (rank 1, 2, 4, 8), finished in seconds.</summary>
    public static string Ranks(string name) => $$"""
        name: {{name}}
        seed: 5
        task:
          model: mlp
          dataset: mnist
          base: { pretrain: { epochs: 1, lr: 1.0e-3, batch_size: 256 } }
        metric: { name: test_accuracy, goal: maximize }
        method: grid
        parallel: 1
        parameters:
          rank: { values: [1, 2, 4, 8] }
          alpha: { value: 4 }
          target_modules: { value: [l1, l2, l3] }
          lr: { value: 3.0e-3 }
          batch_size: { value: 64 }
          max_steps: { value: 40 }
          eval_every: { value: 10 }
        """;

    /// <summary>One trial long enough to be watched while it trains (the test cancels it).</summary>
    public static string Long(string name) => $$"""
        name: {{name}}
        seed: 6
        task:
          model: mlp
          dataset: mnist
          base: { pretrain: { epochs: 1, lr: 1.0e-3, batch_size: 256 } }
        metric: { name: test_accuracy, goal: maximize }
        method: grid
        parallel: 1
        parameters:
          rank: { values: [4, 8] }
          alpha: { value: 4 }
          target_modules: { value: [l1, l2, l3] }
          lr: { value: 1.0e-3 }
          batch_size: { value: 32 }
          max_steps: { value: 1000000 }
          eval_every: { value: 200 }
        """;

    /// <summary>
    /// 8 short LoRA trials in which alpha is tied to rank (alpha = rank, as sweeps/mnist-rank.yaml) and lr varies, and
    /// full fine-tuning at each lr, on two objectives (as sweeps/mnist-pareto.yaml): accuracy up, trainable parameters down.
    /// </summary>
    public static string TiedAlpha(string name) => $$"""
        name: {{name}}
        seed: 7
        task:
          model: mlp
          dataset: mnist
          base: { pretrain: { epochs: 1, lr: 1.0e-3, batch_size: 256 } }
        metrics:
          - { name: test_accuracy, goal: maximize }
          - { name: trainable_params, goal: minimize }
        method: grid
        parallel: 1
        baselines: [full]
        parameters:
          rank: { values: [1, 2, 4, 8] }
          alpha: { per_rank: 1 }
          lr: { values: [3.0e-3, 3.0e-2] }
          target_modules: { value: [l1, l2, l3] }
          batch_size: { value: 64 }
          max_steps: { value: 30 }
          eval_every: { value: 10 }
        """;
}
