using System.Text.Json;
using Orchestrator.Trainer.Estimation;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Estimation;
using Orchestrator.Trials.Models.Decoders;

namespace Orchestrator.Trainer.Tests.Estimation;

/// <summary>The CPU peak a decoder trial is estimated at with base_dtype, quantize and gradient_checkpointing (what `bench memory` checks).</summary>
public sealed class DecoderPeakMemoryTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    /// <summary>The 168M llama: hidden 1024, 12 layers, intermediate 2752, vocab 8000, untied.</summary>
    private string Llama168M()
    {
        var folder = _workspace.Sub("llama-168m");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), JsonSerializer.Serialize(new
        {
            model_type = "llama", hidden_size = 1024, num_hidden_layers = 12, intermediate_size = 2752, vocab_size = 8000,
            num_attention_heads = 16, num_key_value_heads = 16, max_position_embeddings = 2048, rms_norm_eps = 1e-6, tie_word_embeddings = false,
        }));
        return folder;
    }

    private TrainingConfig Lora(string folder) => new()
    {
        Model = folder, Rank = 16, Alpha = 32, TargetModules = ["all-linear"], BatchSize = 1, SequenceLength = 64,
    };

    [Fact]
    public void NF4_stores_half_a_byte_per_value_and_a_4_byte_absmax_per_block_of_64()
    {
        Assert.Equal(32 + 4, DecoderPeakMemory.Nf4Bytes(64));
        Assert.Equal(2 * (32 + 4), DecoderPeakMemory.Nf4Bytes(65)); // the last block is padded
        Assert.Equal(1024L * 2752 / 2 + 1024L * 2752 / 64 * 4, DecoderPeakMemory.Nf4Bytes(1024L * 2752));
    }

    [Fact]
    public void The_weights_are_the_linears_as_quantised_or_in_base_dtype_the_rest_in_base_dtype_and_the_adapters_in_fp32()
    {
        var folder = Llama168M();
        var decoder = DecoderArchitecture.Load(folder);
        var fp32 = TrialMemoryEstimator.Estimate(Lora(folder));
        var bf16 = TrialMemoryEstimator.Estimate(Lora(folder) with { BaseDtype = BaseDtype.Bf16 });
        var nf4 = TrialMemoryEstimator.Estimate(Lora(folder) with { Quantize = QuantizeMode.Nf4 });
        var int8 = TrialMemoryEstimator.Estimate(Lora(folder) with { Quantize = QuantizeMode.Int8 });

        const long adapters = 3_747_840; // r=16 on the 7 projections of 12 layers: 16 x (in + out) each
        Assert.Equal(adapters * 4, fp32.GradientBytes);
        Assert.Equal((decoder.ParameterCount + adapters) * 4, fp32.WeightsBytes);
        Assert.Equal(decoder.ParameterCount * 2 + adapters * 4, bf16.WeightsBytes);
        Assert.Equal(decoder.Linears.Sum(l => DecoderPeakMemory.Nf4Bytes(l.In * l.Out)) + decoder.OtherParameters * 4 + adapters * 4, nf4.WeightsBytes);
        Assert.Equal(decoder.Linears.Sum(l => l.In * l.Out + l.Out * 4) + decoder.OtherParameters * 4 + adapters * 4, int8.WeightsBytes);
        // The adapters train the same way on every base: their gradients and AdamW state do not change.
        Assert.All([bf16, nf4, int8], e => Assert.Equal((fp32.GradientBytes, fp32.OptimizerBytes), (e.GradientBytes, e.OptimizerBytes)));
        // A quantised base de-quantises one layer at a time, chunk by chunk: the runtime part grows by that workspace only.
        Assert.Equal(DecoderPeakMemory.DequantizeWorkspaceWeights * 2752L * 1024 * 4 + DecoderPeakMemory.DequantizeChunkBytes, nf4.RuntimeBytes - fp32.RuntimeBytes);
    }

    [Fact]
    public void Gradient_checkpointing_keeps_each_layers_input_and_recomputes_one_layer_at_a_time()
    {
        var folder = Llama168M();
        var long_ = Lora(folder) with { BatchSize = 4, SequenceLength = 512 };
        var kept = TrialMemoryEstimator.Estimate(long_);
        var checkpointed = TrialMemoryEstimator.Estimate(long_ with { GradientCheckpointing = true });
        var logits = 4L * 512 * 8000 * 4;
        var oneLayer = DecoderPeakMemory.ActivationShare * MemoryEstimator.TransformerActivationBytes(4, 512, 1024, 1, 16, MemoryEstimator.Fp32);
        Assert.InRange(kept.ActivationBytes - (12 * oneLayer + logits), -2, 2); // rounded to whole bytes
        Assert.InRange(checkpointed.ActivationBytes - (12L * 4 * 512 * 1024 * 4 + DecoderPeakMemory.CheckpointedLayers * oneLayer + logits), -2, 2);
        Assert.True(checkpointed.ActivationBytes < kept.ActivationBytes / 2);
        Assert.Equal(kept.WeightsBytes, checkpointed.WeightsBytes);
    }

    [Fact]
    public void The_scheduler_reads_the_same_estimate_as_estimate_and_bench_memory()
    {
        var config = Lora(Llama168M()) with { Quantize = QuantizeMode.Nf4, BaseDtype = BaseDtype.Bf16, GradientCheckpointing = true };
        ITrialMemoryEstimator scheduler = TrialMemoryEstimator.Instance;
        Assert.Equal(TrialMemoryEstimator.Estimate(config), scheduler.Estimate(config));
        Assert.Equal(TrialMemoryEstimator.Estimate(config).TotalBytes,
            TrialMemoryEstimator.Estimate(config).WeightsBytes + TrialMemoryEstimator.Estimate(config).GradientBytes + TrialMemoryEstimator.Estimate(config).OptimizerBytes
            + TrialMemoryEstimator.Estimate(config).ActivationBytes + TrialMemoryEstimator.Estimate(config).RuntimeBytes);
    }
}
