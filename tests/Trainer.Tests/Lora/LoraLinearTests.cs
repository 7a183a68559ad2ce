using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Lora;

public sealed class LoraLinearTests
{
    private static LoraLinear Adapt(long inFeatures, long outFeatures, LoraLayerSettings settings, bool hasBias = true, long seed = 1)
    {
        using var generator = LinearInit.Generator(seed);
        return new LoraLinear(LinearInit.Create(inFeatures, outFeatures, hasBias, generator), settings, seed);
    }

    [Fact]
    public void Rank16_on_a_512x512_layer_trains_16384_parameters()
    {
        using var layer = Adapt(512, 512, new LoraLayerSettings(16, 16));
        Assert.Equal(16_384, layer.TrainableParameterCount);
        Assert.Equal(16_384, ParameterCount.Trainable(layer));
        Assert.Equal(512 * 512 + 512 + 16_384, ParameterCount.Total(layer));
    }

    [Fact]
    public void Rank16_on_a_512x512_layer_trains_16896_parameters_when_its_bias_trains()
    {
        using var layer = Adapt(512, 512, new LoraLayerSettings(16, 16));
        layer.BiasTrains = true;
        Assert.Equal(16_896, layer.TrainableParameterCount);
        Assert.Equal(16_896, ParameterCount.Trainable(layer));
    }

    [Fact]
    public void Rank8_on_a_4096x4096_layer_trains_65536_parameters()
    {
        using var layer = Adapt(4096, 4096, new LoraLayerSettings(8, 16), hasBias: false);
        Assert.Equal(65_536, ParameterCount.Trainable(layer));
    }

    [Fact]
    public void Adapter_matrices_have_PEFT_shapes_A_r_by_in_and_B_out_by_r()
    {
        using var layer = Adapt(32, 48, new LoraLayerSettings(4, 8));
        Assert.Equal(new long[] { 4, 32 }, layer.LoraA.shape);
        Assert.Equal(new long[] { 48, 4 }, layer.LoraB.shape);
    }

    [Fact]
    public void A_fresh_adapter_leaves_the_output_unchanged()
    {
        using var scope = NewDisposeScope();
        using var generator = LinearInit.Generator(3);
        var linear = LinearInit.Create(16, 8, hasBias: true, generator);
        var x = randn(new long[] { 5, 16 }, generator: generator);
        var before = linear.forward(x).detach().clone();
        using var layer = new LoraLinear(linear, new LoraLayerSettings(4, 8), seed: 7);
        Assert.True(layer.forward(x).allclose(before));
    }

    [Fact]
    public void Output_adds_the_scaled_low_rank_update()
    {
        using var scope = NewDisposeScope();
        using var layer = Adapt(16, 8, new LoraLayerSettings(4, 8));
        using (no_grad()) layer.LoraB.copy_(randn(8, 4));
        var x = randn(3, 16);
        var expected = layer.BaseLayer.forward(x) + x.matmul(layer.LoraA.t()).matmul(layer.LoraB.t()) * 2.0;
        Assert.True(layer.forward(x).allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Scaling_is_alpha_over_rank_and_alpha_over_sqrt_rank_with_rslora()
    {
        Assert.Equal(2.0, new LoraLayerSettings(8, 16).Scaling);
        Assert.Equal(16 / Math.Sqrt(8), new LoraLayerSettings(8, 16, UseRslora: true).Scaling, 12);
        using var layer = Adapt(8, 8, new LoraLayerSettings(16, 8, UseRslora: true));
        Assert.Equal(2.0, layer.Scaling, 12);
    }

    [Fact]
    public void After_backward_only_the_adapter_has_gradients()
    {
        using var scope = NewDisposeScope();
        using var layer = Adapt(16, 8, new LoraLayerSettings(4, 8));
        layer.forward(randn(4, 16)).pow(2).sum().backward();
        Assert.NotNull(layer.LoraA.grad);
        Assert.NotNull(layer.LoraB.grad);
        Assert.Null(layer.BaseLayer.weight!.grad);
        Assert.Null(layer.BaseLayer.bias!.grad);
    }

    [Fact]
    public void Merged_and_unmerged_outputs_agree_within_1e_5()
    {
        using var scope = NewDisposeScope();
        using var layer = Adapt(32, 16, new LoraLayerSettings(4, 8));
        using (no_grad()) layer.LoraB.copy_(randn(16, 4) * 0.1);
        var x = randn(6, 32);
        var weightBefore = layer.BaseLayer.weight!.detach().clone();
        var unmerged = layer.forward(x).detach().clone();

        layer.Merge();
        layer.Merge(); // a second merge must not add the update twice
        Assert.True(layer.Merged);
        Assert.True(layer.forward(x).allclose(unmerged, rtol: 0, atol: 1e-5));

        layer.Unmerge();
        Assert.False(layer.Merged);
        Assert.True(layer.BaseLayer.weight!.allclose(weightBefore, rtol: 0, atol: 1e-6));
        Assert.True(layer.forward(x).allclose(unmerged, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void Kaiming_init_draws_A_within_one_over_sqrt_fan_in_and_B_zero()
    {
        using var layer = Adapt(256, 64, new LoraLayerSettings(8, 8));
        var bound = 1 / Math.Sqrt(256);
        Assert.True(layer.LoraA.abs().max().item<float>() <= bound);
        Assert.True(layer.LoraA.abs().max().item<float>() > 0.9 * bound);
        Assert.Equal(0, layer.LoraB.abs().sum().item<float>());
    }

    [Fact]
    public void Gaussian_init_draws_A_with_standard_deviation_one_over_rank()
    {
        using var layer = Adapt(4096, 8, new LoraLayerSettings(8, 8, Init: LoraInitMethod.Gaussian), hasBias: false);
        Assert.Equal(0, layer.LoraA.mean().item<float>(), 2);
        Assert.InRange(layer.LoraA.std().item<float>(), 0.95 / 8, 1.05 / 8);
        Assert.Equal(0, layer.LoraB.abs().sum().item<float>());
    }

    [Fact]
    public void The_same_seed_gives_the_same_adapter()
    {
        using var first = Adapt(64, 64, new LoraLayerSettings(4, 4), seed: 11);
        using var second = Adapt(64, 64, new LoraLayerSettings(4, 4), seed: 11);
        using var other = Adapt(64, 64, new LoraLayerSettings(4, 4), seed: 12);
        Assert.True(first.LoraA.Same(second.LoraA));
        Assert.False(first.LoraA.Same(other.LoraA));
    }

    [Fact]
    public void The_same_seed_gives_the_same_gaussian_adapter()
    {
        var settings = new LoraLayerSettings(4, 4, Init: LoraInitMethod.Gaussian);
        using var first = Adapt(64, 64, settings, seed: 11);
        using var second = Adapt(64, 64, settings, seed: 11);
        Assert.True(first.LoraA.Same(second.LoraA));
    }

    [Fact]
    public void Settings_that_break_the_trainer_rule_table_are_refused_as_invalid_config()
    {
        Assert.Equal("rank", Assert.Single(Assert.Throws<InvalidTrainingConfigException>(() => Adapt(8, 8, new LoraLayerSettings(0, 8))).Problems).Key);
        Assert.Equal("rank", Assert.Single(Assert.Throws<InvalidTrainingConfigException>(() => Adapt(8, 8, new LoraLayerSettings(4097, 8))).Problems).Key);
        Assert.Equal("alpha", Assert.Single(Assert.Throws<InvalidTrainingConfigException>(() => Adapt(8, 8, new LoraLayerSettings(4, 0))).Problems).Key);
        Assert.Equal("dropout", Assert.Single(Assert.Throws<InvalidTrainingConfigException>(() => Adapt(8, 8, new LoraLayerSettings(4, 8, Dropout: 1))).Problems).Key);
        Assert.Contains("kaiming, gaussian", Assert.Throws<ArgumentException>(() => LoraInitMethod.Parse("orthogonal")).Message); // an init is valid by its type
    }

    [Fact]
    public void A_layer_without_bias_cannot_train_one()
    {
        using var layer = Adapt(8, 8, new LoraLayerSettings(2, 2), hasBias: false);
        Assert.Throws<InvalidOperationException>(() => layer.BiasTrains = true);
    }

    [Fact]
    public void Dropout_applies_to_the_adapter_input_only_in_training()
    {
        using var scope = NewDisposeScope();
        using var layer = Adapt(64, 64, new LoraLayerSettings(4, 4, Dropout: 0.5));
        using (no_grad()) layer.LoraB.copy_(randn(64, 4));
        var x = randn(8, 64);
        layer.eval();
        var first = layer.forward(x).detach().clone();
        Assert.True(layer.forward(x).Same(first));
        layer.train();
        Assert.False(layer.forward(x).allclose(first));
    }
}
