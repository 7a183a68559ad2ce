using System.Text.Json;
using Orchestrator.Trainer.Data.Instructions;
using Orchestrator.Trainer.Data.Tokenizers;
using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trainer.Tests.Instructions;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trainer.Training;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Models.Llama;
using Orchestrator.Trials.Models.Named;

namespace Orchestrator.Trainer.Tests.Pretraining;

/// <summary>A decoder pretrained here (the named decoders' path): its tokenizer, its folder, and instruction tuning on it.</summary>
public sealed class DecoderPretrainingTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private static readonly string[] Words = ["the", "film", "was", "very", "good", "bad", "plot", "acting", "great", "awful", "and", "but", "a", "story"];

    /// <summary>Review-like sentences, repetitive enough that a tiny model learns them in tens of steps.</summary>
    private static List<string> Corpus(int documents)
    {
        var random = new Random(5);
        return Enumerable.Range(0, documents)
            .Select(_ => string.Join(' ', Enumerable.Range(0, 8 + random.Next(8)).Select(_ => Words[random.Next(Words.Length)])) + ".")
            .ToList();
    }

    /// <summary>hidden 32, 1 layer, a 300-id vocabulary; 60 steps of 8 windows of 16 tokens.</summary>
    private static readonly NamedDecoder Tiny = new("tiny-llama", "a test decoder",
        new LlamaConfig
        {
            VocabSize = 300, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 1, NumAttentionHeads = 2, NumKeyValueHeads = 2,
            MaxPositionEmbeddings = 64, TieWordEmbeddings = true, NameOrPath = "tiny-llama",
        },
        new DecoderPretrainRecipe
        {
            Corpus = "imdb", VocabSize = 300, TokenizerDocuments = 200, SequenceLength = 16, BatchSize = 8, MaxSteps = 60, WarmupSteps = 5, LearningRate = 1e-2,
        });

    [Fact]
    public void A_trained_byte_level_bpe_folder_round_trips_text_and_encodes_every_training_piece_as_training_left_it()
    {
        var texts = Corpus(200).Append("Café naïve – 🎬 it's   spaced\n\nout").ToList();
        var trainer = ByteLevelBpeTrainer.Train(texts, vocabSize: 300);
        var folder = _workspace.Sub("tokenizer");
        trainer.WriteFolder(folder, modelMaxLength: 64);

        var tokenizer = ModelTokenizer.Load(folder);

        Assert.Equal(300, trainer.Vocabulary.Count);
        Assert.Equal(300, tokenizer.VocabSize);
        Assert.Equal((299, 299, 299), (tokenizer.BosId, tokenizer.EosId, tokenizer.PadId));
        // Microsoft.ML.Tokenizers, reading the written merges by rank, segments each piece exactly as training did.
        Assert.All(trainer.Segmentations, piece => Assert.Equal(piece.Value, tokenizer.Encode(piece.Key, addSpecialTokens: false)));
        Assert.Contains(trainer.Segmentations.Values, ids => ids.Length == 1 && ids[0] >= 256); // merges happened: " film" is one token
        foreach (var text in texts.Append("unseen wörds ∑ and <|endoftext|> inside"))
        {
            var ids = tokenizer.Encode(text, addSpecialTokens: true);
            Assert.Equal(299, ids[0]); // every text starts with end-of-text, as every pretraining document did
            Assert.Equal(text, tokenizer.Decode(ids.Skip(1)));
        }
        Assert.Equal([299], tokenizer.Encode("<|endoftext|>", addSpecialTokens: false));
    }

    [Fact]
    public void A_decoder_pretrained_here_is_a_hugging_face_llama_folder_that_loads_and_whose_held_out_perplexity_fell()
    {
        var folder = _workspace.Sub("tiny-llama");

        var report = DecoderPretraining.Build(Tiny, Corpus(600), folder);

        Assert.All(["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", DecoderPretraining.ReportFile],
            file => Assert.True(File.Exists(Path.Combine(folder, file)), file));
        Assert.Equal("llama", JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "config.json"))).RootElement.GetProperty("model_type").GetString());
        using var model = CausalLanguageModels.FromPretrained(folder);
        Assert.Equal((300, 64), (model.VocabSize, model.MaxPositions));
        // Random init predicts about uniformly over 300 ids; 60 steps on a 14-word language leave it far below that.
        Assert.InRange(report.TestPerplexityBefore, 200, 400);
        Assert.True(report.TestPerplexityAfter < report.TestPerplexityBefore / 5, $"perplexity {report.TestPerplexityBefore:0.#} -> {report.TestPerplexityAfter:0.#}");
        Assert.Equal(report.TestPerplexityAfter, JsonSerializer.Deserialize<DecoderPretrainingReport>(File.ReadAllText(Path.Combine(folder, DecoderPretraining.ReportFile)))!.TestPerplexityAfter);
    }

    [Fact]
    public void Prompt_completion_labels_train_with_lora_on_a_decoder_pretrained_here_and_report_val_loss_and_label_accuracy()
    {
        var folder = _workspace.Sub("tiny-llama");
        DecoderPretraining.Build(Tiny, Corpus(600), folder);
        var random = new Random(3);
        var data = TinyDecoders.WriteJsonl(_workspace.Sub("sentiment.jsonl"), Enumerable.Range(0, 160).Select(i =>
        {
            var positive = i % 2 == 0;
            var review = string.Join(' ', Enumerable.Range(0, 3 + random.Next(4)).Select(_ => Words[random.Next(Words.Length)]));
            return new { prompt = $"Review: {review} {(positive ? "great" : "awful")}\nSentiment:", completion = positive ? " positive" : " negative" };
        }));
        var config = new TrainingConfig
        {
            Model = folder, Dataset = data, Adapter = AdapterKind.Lora, Rank = 8, Alpha = 16, TargetModules = ["all-linear"], SequenceLength = 48,
            BatchSize = 16, MaxSteps = 40, LearningRate = 1e-2, Seed = 1, MaxTrainSamples = 100, MaxEvalSamples = 12,
        };
        Assert.Equal(TaskKind.InstructionLabels, MetricNames.TaskOf(folder, data));

        var outcome = TrialTrainer.Run(new TrainingRequest(config, new BaseModelSpec(), _workspace.Sub("trial"), _workspace.Sub("bases")), null, CancellationToken.None);
        var frozen = TrialTrainer.Run(new TrainingRequest(config with { Adapter = AdapterKind.Base }, new BaseModelSpec(), _workspace.Sub("base"), _workspace.Sub("bases")), null, CancellationToken.None);

        Assert.Equal([MetricNames.TestAccuracy, MetricNames.TestLoss, MetricNames.TestPerplexity, MetricNames.TrainLoss, MetricNames.ValLoss, MetricNames.ValPerplexity],
            outcome.Metrics.Keys.Order(StringComparer.Ordinal));
        Assert.InRange(outcome.Metrics[MetricNames.TestAccuracy], 0, 1);
        // The pretrained base never saw " positive" / " negative" after "Sentiment:"; the adapter learns to say one of them.
        Assert.True(outcome.Metrics[MetricNames.ValLoss] < frozen.Metrics[MetricNames.ValLoss] - 1,
            $"val_loss {outcome.Metrics[MetricNames.ValLoss]} with LoRA, {frozen.Metrics[MetricNames.ValLoss]} frozen");
        using var dataset = InstructionDataset.Load(data, folder, config);
        Assert.Equal((100L, 12L, 12L), (dataset.TrainCount, dataset.ValidationCount, dataset.TestCount)); // max_train_samples / max_eval_samples subset the rows
    }
}
