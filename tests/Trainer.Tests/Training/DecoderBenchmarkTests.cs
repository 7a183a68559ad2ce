using Orchestrator.Trainer.Benchmarks;
using Orchestrator.Trainer.Models.Llama;
using Orchestrator.Trials.Models.Llama;

namespace Orchestrator.Trainer.Tests.Training;

/// <summary>`bench trainer --model DIR` on a decoder folder: LoRA r=16 on every linear layer, random tokens, both loops timed.</summary>
public sealed class DecoderBenchmarkTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public void A_decoder_folder_benchmarks_lora_rank_16_on_all_seven_projections_of_each_layer()
    {
        var folder = _workspace.Sub("tiny-llama");
        var config = new LlamaConfig
        {
            VocabSize = 64, HiddenSize = 32, IntermediateSize = 48, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
            MaxPositionEmbeddings = 64,
        };
        using (var llama = LlamaModel.Create(config, seed: 1)) llama.SavePretrained(folder);

        var result = TrainerBenchmark.Run(folder, steps: 6, threads: 1);

        Assert.True(result.TrainerStepsPerSecond > 0);
        Assert.True(result.BareStepsPerSecond > 0);
        Assert.Equal(TrainerBenchmark.DecoderBatchSize * TrainerBenchmark.DecoderSequenceLength, result.TokensPerStep);
        Assert.Equal(16, result.Rank);
        // r·(in+out) for q (32→32), k, v (32→16), o (32→32), gate, up (32→48), down (48→32), in each of two layers.
        Assert.Equal(2 * 16 * (64 + 48 + 48 + 64 + 80 + 80 + 80), result.TrainableParameters);
    }
}
