using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;
using Orchestrator.Trainer.Training;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Lora.Variants;

public sealed class LoraPlusTests
{
    private static (MlpModel Model, List<(string Name, TorchSharp.Modules.Parameter Parameter)> Trainable) Adapted(TrainingConfig config)
    {
        var model = new MlpModel(1);
        LoraInjector.Inject(model, config, seed: 1);
        return (model, model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList());
    }

    [Fact]
    public void LoRA_plus_ratio_16_steps_B_matrices_at_16_times_the_learning_rate_of_A()
    {
        var config = new TrainingConfig { Model = "mlp", Rank = 4, TargetModules = ["l1", "l2"], LearningRate = 2e-4, LoraPlusLrRatio = 16 };
        var (model, trainable) = Adapted(config);
        using var _ = model;
        var groups = OptimizerGroups.Of(model, trainable, config);

        Assert.Equal([OptimizerGroups.LoraPlusA, OptimizerGroups.LoraPlusB], groups.Select(g => g.Name));
        Assert.Equal(["l1.lora_A", "l2.lora_A"], groups[0].Parameters.Select(p => p.Name));
        Assert.Equal(["l1.lora_B", "l2.lora_B"], groups[1].Parameters.Select(p => p.Name));

        using var optimizer = OptimizerGroups.CreateAdamW(groups, config.LearningRate, TrainingLoop.Beta1, TrainingLoop.Beta2, TrainingLoop.Epsilon);
        var rates = optimizer.ParamGroups.Select(g => g.LearningRate).ToList();
        Assert.Equal(2e-4, rates[0], 15);
        Assert.Equal(16 * 2e-4, rates[1], 15);
    }

    [Fact]
    public void LoRA_plus_steps_biases_and_DoRA_magnitudes_with_B_as_PEFT_and_biases_without_weight_decay()
    {
        var config = new TrainingConfig
        {
            Model = "mlp", Rank = 4, TargetModules = ["l1"], Bias = BiasMode.LoraOnly, UseDora = true, WeightDecay = 0.05, LoraPlusLrRatio = 8,
        };
        var (model, trainable) = Adapted(config);
        using var _ = model;
        var groups = OptimizerGroups.Of(model, trainable, config).ToDictionary(g => g.Name);

        Assert.Equal(["l1.lora_A"], groups[OptimizerGroups.LoraPlusA].Parameters.Select(p => p.Name));
        Assert.Equal(["l1.lora_B", "l1.lora_magnitude_vector"], groups[OptimizerGroups.LoraPlusB].Parameters.Select(p => p.Name).Order());
        Assert.Equal(["l1.base_layer.bias"], groups[OptimizerGroups.LoraPlusBNoDecay].Parameters.Select(p => p.Name));
        Assert.Equal(0.05, groups[OptimizerGroups.LoraPlusA].WeightDecay);
        Assert.Equal(0.05, groups[OptimizerGroups.LoraPlusB].WeightDecay);
        Assert.Equal(0, groups[OptimizerGroups.LoraPlusBNoDecay].WeightDecay);
        Assert.Equal(8, groups[OptimizerGroups.LoraPlusBNoDecay].LearningRateFactor);
    }

    [Fact]
    public void Without_LoRA_plus_every_trainable_parameter_is_one_group_at_the_learning_rate()
    {
        var config = new TrainingConfig { Model = "mlp", Rank = 4, TargetModules = ["l1", "l2"] };
        var (model, trainable) = Adapted(config);
        using var _ = model;
        var group = Assert.Single(OptimizerGroups.Of(model, trainable, config));
        Assert.Equal(trainable.Select(t => t.Name), group.Parameters.Select(p => p.Name));
        Assert.Equal(1, group.LearningRateFactor);
        Assert.Equal(config.WeightDecay, group.WeightDecay);
    }

    [Fact]
    public void A_LoRA_plus_step_moves_B_by_ratio_times_what_the_same_step_moves_it_without()
    {
        // Adam's first step moves every entry by lr (its normalised gradient is ±1), so B's step is ratio × lr.
        double StepOfB(double ratio)
        {
            var config = new TrainingConfig { Model = "mlp", Rank = 2, TargetModules = ["l1"], LearningRate = 1e-3, WeightDecay = 0, LoraPlusLrRatio = ratio };
            var (model, trainable) = Adapted(config);
            using var _ = model;
            using var scope = NewDisposeScope();
            var groups = OptimizerGroups.Of(model, trainable, config);
            using var optimizer = OptimizerGroups.CreateAdamW(groups, config.LearningRate, TrainingLoop.Beta1, TrainingLoop.Beta2, TrainingLoop.Epsilon);
            var b = trainable.Single(t => t.Name == "l1.lora_B").Parameter;
            var before = b.detach().clone();
            model.eval();
            model.forward(rand([4, 784], generator: new Generator(2, CPU))).sum().backward();
            optimizer.step();
            return b.detach().sub(before).abs().max().item<float>();
        }
        Assert.Equal(1e-3, StepOfB(0), 5);
        Assert.Equal(16e-3, StepOfB(16), 4);
    }
}
