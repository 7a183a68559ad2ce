using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models.HuggingFace;
using Orchestrator.Trainer.Tests.Training;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Models.HuggingFace;

/// <summary>Mean pooling (sentence-transformers') beside transformers' [CLS] head: where it is declared and what it changes.</summary>
public sealed class EncoderPoolingTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private static void DeclarePooling(string folder, EncoderPooling pooling)
    {
        var path = Path.Combine(folder, EncoderPoolings.SentenceTransformersFile);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, EncoderPoolings.SentenceTransformersConfig(pooling, hiddenSize: 32));
    }

    [Fact]
    public void A_sentence_transformers_folder_that_declares_mean_pooling_classifies_the_mean_with_no_pooler()
    {
        var folder = TinyEncoders.Write(_workspace.Sub("st"), EncoderFamily.Bert, seed: 4, bareNames: true);
        DeclarePooling(folder, EncoderPooling.Mean);

        Assert.Equal(EncoderPooling.Mean, EncoderConfig.Load(Path.Combine(folder, EncoderConfig.FileName)).Pooling);
        using var model = EncoderClassifier.FromPretrained(folder, numLabels: 2, seed: 8);
        // The checkpoint's pooler is not used (not loaded, not refused as unexpected); only the classifier is new and trains.
        Assert.DoesNotContain(model.state_dict().Keys, k => k.Contains("pooler", StringComparison.Ordinal));
        Assert.Equal(["classifier"], model.ModulesToSave);
        Assert.DoesNotContain(LoraInjector.LinearModulePaths(model), p => p.Contains("pooler", StringComparison.Ordinal));
    }

    [Fact]
    public void A_config_pooling_overrides_the_folders_own_and_cls_loads_the_checkpoints_pooler()
    {
        var folder = TinyEncoders.Write(_workspace.Sub("st"), EncoderFamily.Bert, seed: 4, bareNames: true);
        DeclarePooling(folder, EncoderPooling.Mean);

        using var cls = EncoderClassifier.FromPretrained(folder, numLabels: 2, seed: 8, EncoderPooling.Cls);
        using var mean = EncoderClassifier.FromPretrained(folder, numLabels: 2, seed: 8);
        Assert.Contains("bert.pooler.dense.weight", cls.state_dict().Keys);
        Assert.Equal(["classifier"], cls.ModulesToSave); // the pooler came from the checkpoint: it stays frozen in LoRA
        cls.eval();
        mean.eval();
        using var ids = tensor(new long[] { 2, 7, 9, 11, 3 }, [1, 5], dtype: ScalarType.Int64);
        using var noGrad = no_grad();
        // Same weights and the same new head (drawn from the seed), different inputs to it.
        Assert.False(cls.forward(ids).allclose(mean.forward(ids), rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void A_folder_without_sentence_transformers_files_classifies_cls_as_transformers()
    {
        var folder = TinyEncoders.Write(_workspace.Sub("hf"), EncoderFamily.Bert, seed: 4);
        Assert.Equal(EncoderPooling.Cls, EncoderConfig.Load(Path.Combine(folder, EncoderConfig.FileName)).Pooling);
    }

    [Fact]
    public void Minilm_l6_pools_the_mean_as_it_was_trained_and_arctic_xs_pools_cls()
    {
        Assert.Equal(EncoderPooling.Mean, EncoderConfig.Of("minilm-l6")!.Pooling);
        Assert.Equal(EncoderPooling.Cls, EncoderConfig.Of("arctic-xs")!.Pooling);
        Assert.Equal(EncoderPooling.Cls, EncoderConfig.Of("minilm-l6", EncoderPooling.Cls)!.Pooling);
        Assert.Null(EncoderConfig.Of("mlp"));
    }

    [Fact]
    public void Minilm_l6s_mean_head_counts_no_pooler_22_713_216_less_147_840_plus_the_2_label_classifier()
    {
        var mean = EncoderConfig.Of("minilm-l6")!;
        var cls = EncoderConfig.Of("minilm-l6", EncoderPooling.Cls)!;
        Assert.Equal(22_713_216 - 147_840 + 770, mean.ParameterCount(2));
        Assert.Equal(22_713_216 + 770, cls.ParameterCount(2));
        Assert.Equal(770, mean.HeadParameterCount(2));
    }

    [Fact]
    public void Pooling_is_an_encoders_choice_and_only_cls_or_mean()
    {
        var notAnEncoder = Assert.Single(new TrainingConfig { Pooling = EncoderPooling.Mean }.Problems());
        Assert.Equal("pooling", notAnEncoder.Key);
        Assert.Contains("model 'mlp' with dataset 'mnist'", notAnEncoder.Message);

        var unknown = Assert.Single(Configuration.ConfigJson.Problems(new TrainingConfig { Model = "minilm-l6", Dataset = "imdb" }, ("pooling", "max")));
        Assert.Equal("pooling", unknown.Key);
        Assert.Contains("cls, mean", unknown.Message);
        Assert.Contains("max", unknown.Message);
    }

    [Fact]
    public void A_config_without_pooling_serialises_as_before_it_existed()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new TrainingConfig());
        Assert.DoesNotContain("pooling", json);
        Assert.Contains("\"pooling\":\"mean\"", System.Text.Json.JsonSerializer.Serialize(new TrainingConfig { Pooling = EncoderPooling.Mean }));
    }
}
