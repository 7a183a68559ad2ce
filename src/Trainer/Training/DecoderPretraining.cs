using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Data.Tokenizers;
using Orchestrator.Trainer.Models.Llama;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Models.Named;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>What pretraining a named decoder measured: written beside its weights as <see cref="DecoderPretraining.ReportFile"/>.</summary>
public sealed record DecoderPretrainingReport
{
    [System.Text.Json.Serialization.JsonPropertyName("seconds")] public double Seconds { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("tokenizer_seconds")] public double TokenizerSeconds { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("training_seconds")] public double TrainingSeconds { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("documents")] public int Documents { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("train_tokens")] public long TrainTokens { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("test_tokens")] public long TestTokens { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("parameters")] public long Parameters { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("test_loss_before")] public double TestLossBefore { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("test_perplexity_before")] public double TestPerplexityBefore { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("test_loss_after")] public double TestLossAfter { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("test_perplexity_after")] public double TestPerplexityAfter { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("threads")] public int Threads { get; init; }
}

/// <summary>
/// Makes a <see cref="NamedDecoder"/> from its recipe into a Hugging Face folder: trains the tokenizer
/// (<see cref="ByteLevelBpeTrainer"/>), tokenizes the corpus's documents in order (each after the end-of-text token, as
/// the folder's tokenizer starts every text) into windows of seq_len + 1 ids, every tenth document held out as the test
/// split (its first 256 windows scored), until the training windows fill max_steps batches once; then trains every weight of the seeded random init
/// (<see cref="TrainingLoop"/>: AdamW, weight decay 0.1, cosine schedule, gradient clipping at 1) and writes
/// config.json, model.safetensors, the tokenizer files and <see cref="ReportFile"/> (held-out perplexity before and
/// after, times).
/// </summary>
public static class DecoderPretraining
{
    public const string ReportFile = "pretraining.json";
    private const int TestWindows = 256;

    public static DecoderPretrainingReport Build(NamedDecoder decoder, IEnumerable<string> documents, string folder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        var recipe = decoder.Recipe;
        if (recipe.VocabSize != decoder.Config.VocabSize)
            throw new ArgumentException($"named decoder '{decoder.Name}': the recipe's vocab_size {recipe.VocabSize} differs from the model's {decoder.Config.VocabSize}");
        var total = Stopwatch.StartNew();
        var texts = documents as IReadOnlyList<string> ?? documents.ToList();
        var tokenizerTrainer = ByteLevelBpeTrainer.Train(texts.Take(recipe.TokenizerDocuments), recipe.VocabSize);
        tokenizerTrainer.WriteFolder(folder, decoder.Config.MaxPositionEmbeddings);
        var tokenizer = ModelTokenizer.Load(folder);
        var tokenizerSeconds = total.Elapsed.TotalSeconds;

        var window = recipe.SequenceLength + 1;
        var neededTrain = (long)recipe.MaxSteps * recipe.BatchSize;
        var train = new List<long>();
        var test = new List<long>();
        var used = 0;
        foreach (var text in texts)
        {
            if (train.Count / window >= neededTrain && test.Count / window >= TestWindows) break;
            used++;
            var target = used % TextCorpusTestEvery == 0 ? test : train;
            target.AddRange(tokenizer.Encode(text, addSpecialTokens: true).Select(id => (long)id));
        }
        if (train.Count / window < recipe.BatchSize || test.Count / window == 0)
            throw new InvalidDataException($"named decoder '{decoder.Name}': the corpus gives {train.Count / window} training and {test.Count / window} test windows of {window} tokens; it needs at least {recipe.BatchSize} and 1");

        torch.manual_seed(recipe.Seed);
        using var model = LlamaModel.Create(decoder.Config, recipe.Seed);
        using var data = Windows(decoder.Name, train, test, window, recipe.VocabSize);
        var before = Evaluator.Evaluate(model, data, recipe.BatchSize, CPU);
        foreach (var p in model.parameters()) p.requires_grad = true;
        var trainable = model.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        var config = new TrainingConfig
        {
            Model = decoder.Name, Dataset = recipe.Corpus, Adapter = AdapterKind.Full,
            LearningRate = recipe.LearningRate, WeightDecay = 0.1, Schedule = ScheduleKind.Cosine, GradClip = 1.0,
            WarmupRatio = (double)recipe.WarmupSteps / recipe.MaxSteps,
            BatchSize = recipe.BatchSize, MaxSteps = recipe.MaxSteps, Epochs = 1, Seed = recipe.Seed, SequenceLength = recipe.SequenceLength,
        };
        var trainingWatch = Stopwatch.StartNew();
        var result = TrainingLoop.Run(model, data, trainable, new TrainingLoopOptions { Config = config, CancellationToken = cancellationToken });
        if (result.StoppedEarly)
            throw new OperationCanceledException($"pretraining of '{decoder.Name}' was cancelled", cancellationToken);
        var trainingSeconds = trainingWatch.Elapsed.TotalSeconds;
        var after = Evaluator.Evaluate(model, data, recipe.BatchSize, CPU);
        model.SavePretrained(folder);

        var report = new DecoderPretrainingReport
        {
            Seconds = Math.Round(total.Elapsed.TotalSeconds, 1),
            TokenizerSeconds = Math.Round(tokenizerSeconds, 1),
            TrainingSeconds = Math.Round(trainingSeconds, 1),
            Documents = used,
            TrainTokens = data.TrainCount * recipe.SequenceLength,
            TestTokens = data.TestCount * recipe.SequenceLength,
            Parameters = Trials.Models.Decoders.DecoderArchitecture.FromLlama(decoder.Config).ParameterCount,
            TestLossBefore = before[MetricNames.TestLoss],
            TestPerplexityBefore = before[MetricNames.TestPerplexity],
            TestLossAfter = after[MetricNames.TestLoss],
            TestPerplexityAfter = after[MetricNames.TestPerplexity],
            Threads = torch.get_num_threads(),
        };
        AtomicFile.WriteAllText(Path.Combine(folder, ReportFile), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        return report;
    }

    private const int TextCorpusTestEvery = Data.Text.TextCorpus.TestEvery;

    private static TensorDataset Windows(string name, List<long> train, List<long> test, int window, int vocabSize)
    {
        using var scope = torch.NewDisposeScope();
        (Tensor, Tensor) Split(List<long> ids, int most)
        {
            var count = Math.Min(most, ids.Count / window);
            var all = torch.tensor(ids.GetRange(0, count * window).ToArray(), [count, window], dtype: ScalarType.Int64);
            return (all.narrow(1, 0, window - 1).contiguous(), all.narrow(1, 1, window - 1).contiguous());
        }
        var (trainX, trainY) = Split(train, int.MaxValue);
        var (testX, testY) = Split(test, TestWindows);
        var data = new TensorDataset(name, TaskKind.CausalLm, vocabSize, trainX, trainY, testX, testY);
        return data;
    }
}
