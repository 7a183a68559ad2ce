using Orchestrator.Trainer.Estimation;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Estimation;
using Orchestrator.Trainer.Models;

namespace Orchestrator.Trainer.Tests.Estimation;

public sealed class MemoryEstimatorTests
{
    private const long GB = 1_000_000_000;

    [Fact]
    public void Full_fine_tuning_of_7B_in_fp16_needs_14GB_of_weights_and_gradients_and_56GB_of_AdamW_state()
    {
        var estimate = MemoryEstimator.Estimate(7 * GB, 7 * GB, MemoryEstimator.Fp16, activationBytes: 0);
        Assert.Equal(14 * GB, estimate.WeightsBytes);
        Assert.Equal(14 * GB, estimate.GradientBytes);
        Assert.Equal(56 * GB, estimate.OptimizerBytes);
        Assert.Equal(84 * GB, estimate.TotalBytes);
    }

    [Fact]
    public void Lora_keeps_the_weights_but_pays_gradients_and_optimizer_state_only_for_the_adapter()
    {
        var estimate = MemoryEstimator.Estimate(1000, 10, MemoryEstimator.Bf16, activationBytes: 5);
        Assert.Equal(2000, estimate.WeightsBytes);
        Assert.Equal(20, estimate.GradientBytes);
        Assert.Equal(80, estimate.OptimizerBytes);
        Assert.Equal(2105, estimate.TotalBytes);
    }

    [Fact]
    public void Rank8_on_q_and_v_of_llama_7B_is_PEFTs_4194304_parameters()
    {
        var estimate = MemoryEstimator.EstimateForParameters(7, rank: 8);
        Assert.Equal("llama-2-7b", estimate.Shape.Name);
        Assert.Equal(4_194_304, estimate.LoraParameters);
        Assert.Equal(2 * 4_194_304, MemoryEstimator.EstimateForParameters(7, rank: 16).LoraParameters);
    }

    [Fact]
    public void Grouped_query_models_adapt_narrower_v_projections()
    {
        var shape = MemoryEstimator.NearestShape(70);
        Assert.Equal(80L * 16 * ((8192 + 8192) + (8192 + 1024)), MemoryEstimator.LoraParameters(shape, 16, ["q_proj", "v_proj"]));
    }

    [Fact]
    public void Lora_saves_most_of_the_memory_of_full_fine_tuning()
    {
        foreach (var size in new[] { 1.0, 3, 7, 13, 70 })
        {
            var estimate = MemoryEstimator.EstimateForParameters(size, rank: 16);
            Assert.InRange(estimate.Savings, 0.6, 0.9);
        }
    }

    [Fact]
    public void Sizes_between_known_models_take_the_nearest_shape()
    {
        Assert.Equal("llama-2-13b", MemoryEstimator.NearestShape(15).Name);
        Assert.Equal("llama-2-70b", MemoryEstimator.NearestShape(120).Name);
        Assert.Equal("llama-3.2-1b", MemoryEstimator.NearestShape(0.5).Name);
    }

    [Fact]
    public void Activations_follow_the_per_layer_formula_and_double_in_fp32()
    {
        var bf16 = MemoryEstimator.TransformerActivationBytes(1, 512, 4096, 32, 32, MemoryEstimator.Bf16);
        Assert.Equal(32L * 512 * 4096 * (34 + 5 * 32 * 512 / 4096), bf16);
        Assert.Equal(2 * bf16, MemoryEstimator.TransformerActivationBytes(1, 512, 4096, 32, 32, MemoryEstimator.Fp32));
    }

    [Fact]
    public void A_built_in_config_is_estimated_from_the_built_model()
    {
        var config = new TrainingConfig { Model = BuiltInModels.TransformerBlock, Rank = 8, TargetModules = ["q_proj", "v_proj"] };
        var lora = TrialMemoryEstimator.Estimate(config);
        Assert.Equal(8_192 * 4, lora.GradientBytes);
        Assert.Equal(8_192 * 8, lora.OptimizerBytes);

        var full = TrialMemoryEstimator.Estimate(config with { Adapter = AdapterKind.Full });
        Assert.Equal(full.WeightsBytes, full.GradientBytes);
        Assert.Equal(0, TrialMemoryEstimator.Estimate(config with { Adapter = AdapterKind.Base }).OptimizerBytes);
    }

    [Fact]
    public void Unknown_dtypes_are_refused()
    {
        Assert.Throws<ArgumentException>(() => MemoryEstimator.DTypeBytes("int3"));
    }
}

public sealed class ModelSizeParsingTests
{
    [Theory]
    [InlineData("7B", 7)]
    [InlineData("1.5b", 1.5)]
    [InlineData("700M", 0.7)]
    [InlineData("13", 13)]
    [InlineData("7e9", 7)]
    public void Sizes_are_read_as_billions_of_parameters(string text, double billions)
    {
        Assert.Equal(billions, MemoryEstimator.ParseBillions(text), 9);
    }

    [Theory]
    [InlineData("")]
    [InlineData("seven")]
    [InlineData("-3B")]
    public void Unreadable_sizes_are_refused(string text)
    {
        Assert.Throws<FormatException>(() => MemoryEstimator.ParseBillions(text));
    }

    [Fact]
    public void The_tiny_llama_is_estimated_from_its_built_in_config_with_lora_on_q_and_v()
    {
        var estimate = TrialMemoryEstimator.Estimate(new TrainingConfig
        {
            Model = BuiltInModels.Llama, Dataset = "text", Rank = 4, TargetModules = ["q_proj", "v_proj"], BatchSize = 16, SequenceLength = 64,
        });

        Assert.Equal(1_792 * 4L, estimate.GradientBytes);
        Assert.True(estimate.WeightsBytes > 100_000 * 4L);
        Assert.True(estimate.ActivationBytes > 16L * 64 * 257 * 4); // at least the logits
    }
}
