using System.Text.Json.Nodes;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Lora.Variants;

public sealed class DoraTests(ITestOutputHelper output)
{
    private static LoraLinear Adapt(long inFeatures, long outFeatures, LoraLayerSettings settings, bool hasBias = true, long seed = 1)
    {
        using var generator = LinearInit.Generator(seed);
        return new LoraLinear(LinearInit.Create(inFeatures, outFeatures, hasBias, generator), settings, seed);
    }

    /// <summary>A DoRA layer whose B and m have moved off their start, as training moves them.</summary>
    private static LoraLinear Moved(LoraLayerSettings settings, long seed = 5)
    {
        var layer = Adapt(5, 6, settings with { UseDora = true }, seed: seed);
        using var generator = LinearInit.Generator(seed + 100);
        using (no_grad())
        {
            layer.LoraB.copy_(randn([6, settings.Rank], generator: generator).mul_(0.5));
            layer.MagnitudeVector!.add_(randn([6], generator: generator).mul_(0.1));
        }
        return layer;
    }

    [Fact]
    public void A_DoRA_layer_outputs_m_times_the_row_normalised_adapted_weight_as_the_plain_torch_reference_computes()
    {
        using var scope = NewDisposeScope();
        using var layer = Moved(new LoraLayerSettings(2, 4));
        layer.eval();
        using var generator = LinearInit.Generator(9);
        var x = randn([3, 5], generator: generator);

        var reference = PlainTorchReference.Run(new JsonObject
        {
            ["case"] = "dora",
            ["w"] = PlainTorchReference.ToJson(layer.BaseLayer.weight!),
            ["bias"] = PlainTorchReference.ToJson(layer.BaseLayer.bias!),
            ["a"] = PlainTorchReference.ToJson(layer.LoraA),
            ["b"] = PlainTorchReference.ToJson(layer.LoraB),
            ["m"] = PlainTorchReference.ToJson(layer.MagnitudeVector!),
            ["x"] = PlainTorchReference.ToJson(x),
            ["scaling"] = layer.Scaling,
        });

        var difference = PlainTorchReference.MaxAbsDifference(layer.forward(x), PlainTorchReference.ToTensor(reference.GetProperty("y")));
        output.WriteLine($"DoRA output vs plain torch: max |Δ| = {difference:E2}");
        Assert.True(difference < 1e-5, $"max |Δ| {difference}");
    }

    [Fact]
    public void DoRA_magnitude_starts_at_the_row_norms_of_W_so_a_fresh_DoRA_layer_leaves_the_output_unchanged()
    {
        using var scope = NewDisposeScope();
        using var layer = Adapt(5, 6, new LoraLayerSettings(2, 4, UseDora: true));
        var reference = PlainTorchReference.Run(new JsonObject
        {
            ["case"] = "dora",
            ["w"] = PlainTorchReference.ToJson(layer.BaseLayer.weight!),
            ["bias"] = PlainTorchReference.ToJson(layer.BaseLayer.bias!),
            ["a"] = PlainTorchReference.ToJson(layer.LoraA),
            ["b"] = PlainTorchReference.ToJson(layer.LoraB),
            ["m"] = PlainTorchReference.ToJson(layer.MagnitudeVector!),
            ["x"] = PlainTorchReference.ToJson(ones(1, 5)),
            ["scaling"] = layer.Scaling,
        });
        var difference = PlainTorchReference.MaxAbsDifference(layer.MagnitudeVector!, PlainTorchReference.ToTensor(reference.GetProperty("initial_magnitude")));
        output.WriteLine($"DoRA initial magnitude vs plain torch ‖W‖ per row: max |Δ| = {difference:E2}");
        Assert.True(difference < 1e-6);

        var x = randn(4, 5);
        Assert.True(layer.forward(x).allclose(layer.BaseLayer.forward(x), rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Rank8_DoRA_on_a_512x512_layer_trains_16384_adapter_and_512_magnitude_parameters()
    {
        using var layer = Adapt(512, 512, new LoraLayerSettings(8, 8, UseDora: true));
        Assert.Equal(8 * 1024 + 512, layer.TrainableParameterCount);
        Assert.Equal(8 * 1024 + 512, ParameterCount.Trainable(layer));
    }

    [Fact]
    public void DoRA_magnitudes_A_and_B_get_gradients_and_the_base_none()
    {
        using var scope = NewDisposeScope();
        using var layer = Moved(new LoraLayerSettings(2, 4));
        layer.forward(randn(4, 5)).pow(2).sum().backward();
        Assert.NotNull(layer.MagnitudeVector!.grad);
        Assert.NotNull(layer.LoraA.grad);
        Assert.NotNull(layer.LoraB.grad);
        Assert.Null(layer.BaseLayer.weight!.grad);
    }

    [Fact]
    public void DoRA_with_dropout_while_training_applies_W_and_the_adapter_to_the_dropped_input_as_PEFT()
    {
        using var scope = NewDisposeScope();
        using var layer = Moved(new LoraLayerSettings(2, 4, Dropout: 0.3));
        layer.train();
        var x = randn(7, 5);
        using var drawing = new Generator(42, CPU);
        using var replaying = new Generator(42, CPU);
        GeneratorDropout.Use(layer, drawing);
        var actual = layer.forward(x);

        // PEFT's DoraLinearVariant.forward with active dropout: base(x) + (f − 1)·(x_d Wᵀ) + f·s·(x_d Aᵀ Bᵀ), f = m/‖W + s·BA‖.
        var dropped = x.mul(GeneratorDropout.Mask(x.shape, x.dtype, 0.3, replaying));
        var w = layer.BaseLayer.weight!;
        var factor = layer.MagnitudeVector!.div(linalg.norm(w.add(layer.LoraB.matmul(layer.LoraA).mul(layer.Scaling)), dims: [1]));
        var expected = layer.BaseLayer.forward(x)
            .add(dropped.matmul(w.t()).mul(factor.sub(1)))
            .add(dropped.matmul(layer.LoraA.t()).matmul(layer.LoraB.t()).mul(factor).mul(layer.Scaling));
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-6));

        layer.eval(); // no dropout in evaluation: the same as the reference formula on x itself
        var evaluated = layer.forward(x);
        var adapted = w.add(layer.LoraB.matmul(layer.LoraA).mul(layer.Scaling));
        var merged = adapted.mul(layer.MagnitudeVector!.div(linalg.norm(adapted, dims: [1])).unsqueeze(1));
        Assert.True(evaluated.allclose(x.matmul(merged.t()).add(layer.BaseLayer.bias!), rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void A_merged_DoRA_layer_gives_the_same_output_and_unmerging_restores_W()
    {
        using var scope = NewDisposeScope();
        using var layer = Moved(new LoraLayerSettings(2, 4));
        layer.eval();
        var x = randn(6, 5);
        var before = layer.BaseLayer.weight!.detach().clone();
        var unmerged = layer.forward(x).detach().clone();
        layer.Merge();
        Assert.True(layer.forward(x).allclose(unmerged, rtol: 0, atol: 1e-5));
        layer.Unmerge();
        Assert.True(layer.BaseLayer.weight!.allclose(before, rtol: 0, atol: 1e-6));
    }
}
