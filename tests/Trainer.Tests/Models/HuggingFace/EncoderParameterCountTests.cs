using Orchestrator.Trainer.Estimation;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Estimation;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models.HuggingFace;
using Orchestrator.Trainer.Tests.Training;

namespace Orchestrator.Trainer.Tests.Models.HuggingFace;

public sealed class EncoderParameterCountTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public void DistilBert_base_with_rank_16_on_its_four_attention_projections_adds_589824_parameters_from_config_json_alone()
    {
        var folder = _workspace.Sub("distilbert-base");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), """
            {"model_type": "distilbert", "vocab_size": 30522, "dim": 768, "n_layers": 6, "n_heads": 12, "hidden_dim": 3072,
             "max_position_embeddings": 512, "activation": "gelu", "dropout": 0.1, "attention_dropout": 0.1, "seq_classif_dropout": 0.2}
            """);

        var report = ParameterReport.Compute(folder, rank: 16, ["q_lin", "k_lin", "v_lin", "out_lin"]);

        Assert.Equal(6 * 4 * 16 * (768 + 768), report.LoraParameters);
        Assert.Equal(589_824, report.LoraParameters);
        Assert.Equal(24, report.AdaptedModules.Count);
        Assert.False(File.Exists(Path.Combine(folder, "model.safetensors")));
        // DistilBertForSequenceClassification with 2 labels: 66,955,010 parameters, as transformers counts it.
        Assert.Equal(66_955_010 + 589_824, report.TotalParameters);
        var memory = TrialMemoryEstimator.Estimate(new TrainingConfig { Model = folder, Dataset = "x.jsonl", Rank = 16, TargetModules = ["q_lin", "k_lin", "v_lin", "out_lin"] });
        Assert.Equal((66_955_010 + 589_824) * 4L, memory.WeightsBytes);
    }

    [Theory]
    [InlineData(EncoderFamily.Bert, BiasMode.None)]
    [InlineData(EncoderFamily.DistilBert, BiasMode.LoraOnly)]
    [InlineData(EncoderFamily.Roberta, BiasMode.All)]
    public void Counts_from_the_config_match_a_built_model_with_lora_injected(EncoderFamily family, BiasMode bias)
    {
        var encoder = TinyEncoders.Config(family);
        using var model = EncoderClassifier.Create(encoder, numLabels: 3, seed: 1);
        Assert.Equal(encoder.ParameterCount(3), ParameterCount.Total(model));

        var config = new TrainingConfig { Rank = 4, Alpha = 4, TargetModules = ["all-linear"], Bias = bias };
        var injection = LoraInjector.Inject(model, config, seed: 1);
        var counted = ParameterReport.ForEncoder("tiny", encoder with { NumLabels = 3 }, rank: 4, ["all-linear"], bias);

        Assert.Equal(injection.TrainableParameters, counted.TrainableParameters);
        Assert.Equal(injection.TotalParameters, counted.TotalParameters);
        Assert.Equal(injection.Modules.Select(m => m.Path), counted.AdaptedModules);
    }
}
