using Orchestrator.Trials.Models.HuggingFace;
using Orchestrator.Trainer.Estimation;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Data.Classification;
using Orchestrator.Trials.Estimation;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trials.Models.Named;
using Orchestrator.Trainer.Training;

namespace Orchestrator.Trainer.Tests.Models.Named;

/// <summary>What the trainer knows of `minilm-l6` and `imdb` by name alone, before anything is fetched.</summary>
public sealed class NamedEncoderTests
{
    private static readonly TrainingConfig MiniLmOnImdb = new() { Model = "minilm-l6", Dataset = "imdb", SequenceLength = 128 };

    [Fact]
    public void Minilm_l6_on_imdb_is_text_classification_with_PEFTs_bert_targets_query_and_value()
    {
        Assert.Equal(TaskKind.TextClassification, MetricNames.TaskOf("minilm-l6", "imdb"));
        Assert.Equal(TaskKind.TextClassification, MetricNames.TaskOf("MiniLM-L6", "imdb"));
        Assert.Equal(["query", "value"], TrainingOptions.DefaultTargetModules("minilm-l6"));
        Assert.Empty(MiniLmOnImdb.Problems());
        Assert.Contains("val_accuracy", MetricNames.ReportedBy("minilm-l6", "imdb", AdapterKind.Lora)!);
    }

    [Fact]
    public void Rank_8_on_query_and_value_of_minilm_l6_adds_73728_LoRA_parameters_and_the_2_label_head_trains_770()
    {
        // 6 layers x 2 projections x 8 x (384 + 384); the classifier 384 x 2 + 2, PEFT's modules_to_save.
        var report = ParameterReport.Compute("minilm-l6", 8, ["query", "value"]);
        Assert.Equal(6 * 2 * 8 * (384 + 384), report.LoraParameters);
        Assert.Equal(73_728 + 770, report.TrainableParameters);
    }

    [Fact]
    public void A_target_minilm_l6_does_not_have_is_refused_with_its_module_names_shown_once_per_layer_stack()
    {
        var problem = Assert.Single((MiniLmOnImdb with { TargetModules = ["q_proj"] }).Problems());
        Assert.Equal("target_modules", problem.Key);
        Assert.Contains("unknown target module 'q_proj'", problem.Message);
        Assert.Contains("encoder.layer.N.attention.self.query", problem.Message);
        Assert.DoesNotContain("layer.5.", problem.Message);
    }

    [Fact]
    public void A_seq_len_past_the_position_embeddings_is_refused_before_anything_is_fetched()
    {
        var problem = Assert.Single((MiniLmOnImdb with { SequenceLength = 600 }).Problems());
        Assert.Equal("seq_len must be at most 512 for model minilm-l6 (its position embeddings), got 600", problem.Message);
    }

    [Fact]
    public void Sample_limits_apply_to_labelled_text_only()
    {
        var problem = Assert.Single(new TrainingConfig { MaxTrainSamples = 100 }.Problems());
        Assert.Equal("max_train_samples", problem.Key);
        Assert.Empty((MiniLmOnImdb with { MaxTrainSamples = 100, MaxEvalSamples = 50 }).Problems());
    }

    [Fact]
    public void Memory_is_estimated_from_the_known_shape_without_the_weights()
    {
        var estimate = TrialMemoryEstimator.Estimate(MiniLmOnImdb with { BatchSize = 16 });
        Assert.True(estimate.WeightsBytes >= 22_000_000L * 4, estimate.ToString());
    }

    private sealed class FixedFolders : INamedResources
    {
        public string ModelFolder(NamedEncoder model, CancellationToken cancellationToken) => "/models/" + model.Name;
        public string DatasetFolder(string dataset, CancellationToken cancellationToken) => "/data/" + dataset;
        public string DecoderFolder(NamedDecoder model, CancellationToken cancellationToken) => "/models/" + model.Name;
    }

    [Fact]
    public void Resolving_a_named_encoder_keeps_its_own_pooling_with_the_folder_unless_the_config_chose_one()
    {
        var resolved = NamedResourceResolution.Resolve(MiniLmOnImdb, new FixedFolders(), CancellationToken.None);
        Assert.Equal(("/models/minilm-l6", "/data/imdb", (EncoderPooling?)EncoderPooling.Mean), (resolved.Model, resolved.Dataset, resolved.Pooling));
        Assert.Equal(EncoderPooling.Cls, NamedResourceResolution.Resolve(MiniLmOnImdb with { Pooling = EncoderPooling.Cls }, new FixedFolders(), CancellationToken.None).Pooling);
        Assert.Equal(EncoderPooling.Cls, NamedResourceResolution.Resolve(MiniLmOnImdb with { Model = "arctic-xs" }, new FixedFolders(), CancellationToken.None).Pooling);
    }

    [Fact]
    public void A_named_model_without_a_resolver_fails_with_what_it_is_not_a_missing_folder()
    {
        var e = Assert.Throws<NamedResourceUnavailableException>(() => NamedResourceResolution.Resolve(MiniLmOnImdb, null, CancellationToken.None));
        Assert.Contains("'minilm-l6' is a named model", e.Message);
    }

    [Fact]
    public void A_sample_limit_takes_the_same_rows_every_time_in_file_order()
    {
        var rows = Enumerable.Range(0, 100).Select(i => new LabelledText($"review {i}", i % 2 == 0 ? "pos" : "neg")).ToList();
        var first = TextClassificationDataset.Subset(rows, 10, 1);
        Assert.Equal(10, first.Count);
        Assert.Equal(first, TextClassificationDataset.Subset(rows, 10, 1));
        Assert.Equal(first.OrderBy(r => rows.IndexOf(r)), first);
        Assert.NotEqual(first, TextClassificationDataset.Subset(rows, 10, 2));
        Assert.Same(rows, TextClassificationDataset.Subset(rows, 0, 1));
        Assert.Same(rows, TextClassificationDataset.Subset(rows, 500, 1));
    }
}
