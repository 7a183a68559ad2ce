using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Data;
using Orchestrator.Trainer.Memory;
using Orchestrator.Trainer.Models;
using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trainer.Models.HuggingFace;
using Orchestrator.Trainer.Models.Llama;
using Orchestrator.Trainer.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Training;

/// <summary>A base model ready for adaptation, and where its weights came from.</summary>
public sealed record BaseModel(nn.Module<Tensor, Tensor> Model, string Hash, string Source, bool Pretrained, TimeSpan PretrainElapsed);

/// <summary>
/// Where pretrained bases are shared beyond one cache (a silo's: the cluster's artifact store). Called on the
/// training thread, under the cache's lock for that hash.
/// </summary>
public interface IBaseModelShare
{
    /// <summary>
    /// Fills <paramref name="directory"/> (<see cref="BaseModelCache.ModelFile"/>, <see cref="BaseModelCache.SpecFile"/>)
    /// with base <paramref name="hash"/>: the shared copy if there is one; else by calling <paramref name="pretrain"/>
    /// (which writes them) and sharing the result. Whatever it does, the files it leaves are the shared ones.
    /// </summary>
    void Provide(string hash, string directory, Action pretrain, CancellationToken cancellationToken);
}

/// <summary>
/// The frozen starting point of a trial. With a `pretrain` spec, a built-in model is trained in full on the trial's
/// dataset (the rank study: 5 epochs, lr 2e-4, batch 1024, Adam ≡ AdamW without decay, no clipping) once per
/// (model, dataset, spec) and cached at `{cache}/{hash}/model.safetensors`; every trial after that loads it.
/// With a `checkpoint`, the weights come from a safetensors file. With neither, the base is the seeded random init.
/// `llama` is a Hugging Face folder given as its checkpoint, or else the built-in <see cref="LlamaConfig.Tiny"/> with the
/// text dataset's vocabulary, pretrained and cached like the other built-ins.
/// </summary>
public static class BaseModelCache
{
    public const string ModelFile = "model.safetensors";
    public const string SpecFile = "spec.json";

    // One pretraining per hash per process; across processes the temp+rename write makes a second writer harmless.
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);
    private static readonly AsyncLocal<IBaseModelShare?> Share = new();

    /// <summary>
    /// Until disposed, <see cref="Get"/> on this flow (the caller's thread) asks <paramref name="share"/> for a
    /// pretrained base missing here, rather than pretraining it itself.
    /// </summary>
    public static IDisposable ShareThrough(IBaseModelShare share)
    {
        var previous = Share.Value;
        Share.Value = share;
        return new ShareScope(previous);
    }

    private sealed class ShareScope(IBaseModelShare? previous) : IDisposable
    {
        public void Dispose() => Share.Value = previous;
    }

    /// <summary>First 16 hex of sha256 over the canonical JSON of (model, dataset, base spec).</summary>
    /// <param name="vocabSize">The dataset's vocabulary, which shapes the built-in `llama` (ignored by other models).</param>
    public static string Hash(string model, string dataset, BaseModelSpec spec, int vocabSize = LlamaConfig.ByteVocabSize) =>
        FileHashes.Sha256(Encoding.UTF8.GetBytes(CanonicalJson(model, dataset, spec, vocabSize)))[..16];

    public static string CanonicalJson(string model, string dataset, BaseModelSpec spec, int vocabSize = LlamaConfig.ByteVocabSize)
    {
        var root = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["dataset"] = dataset,
            ["model"] = model,
        };
        if (spec.Pretrain is { } p)
        {
            root["pretrain"] = new SortedDictionary<string, object>(StringComparer.Ordinal)
            {
                ["batch_size"] = p.BatchSize, ["epochs"] = p.Epochs, ["lr"] = p.LearningRate, ["seed"] = p.Seed,
            };
        }
        if (spec.Checkpoint is { } c)
        {
            root["checkpoint"] = c;
            root["checkpoint_sha256"] = ContentHash(c);
        }
        if (Directory.Exists(model))
            root["model_sha256"] = ContentHash(model);
        if (model == BuiltInModels.Llama && spec.Checkpoint is null)
            root["llama_config"] = JsonSerializer.Deserialize<JsonElement>(LlamaConfig.Tiny(vocabSize).ToJson());
        return JsonSerializer.Serialize(root);
    }

    /// <summary>
    /// Builds the base of a built-in model: pretrained (cached), loaded from a safetensors checkpoint, or freshly
    /// initialised from <paramref name="initSeed"/>. The model is on the CPU, in training mode, all weights trainable.
    /// </summary>
    /// <param name="pooling">An encoder's classification pooling, overriding the folder's own (null: the folder's).</param>
    /// <param name="load">The form a decoder folder's frozen weights load in (base_dtype, quantize), tensor by tensor; null: fp32.</param>
    public static BaseModel Get(string model, string datasetName, ITrainingDataset data, BaseModelSpec spec, string cacheDirectory,
        long initSeed, CancellationToken cancellationToken = default, EncoderPooling? pooling = null, BaseLoad? load = null)
    {
        var vocabSize = data.Task == TaskKind.CausalLm ? (int)data.Classes : LlamaConfig.ByteVocabSize;
        var hash = Hash(model, datasetName, spec, vocabSize);
        // A Hugging Face folder, named as the model or as the checkpoint of `llama`.
        var huggingFaceFolder = Directory.Exists(model) ? model : spec.Checkpoint is { } folder && Directory.Exists(folder) ? folder : null;
        if (huggingFaceFolder is not null && EncoderConfig.IsEncoderFolder(huggingFaceFolder))
        {
            // An encoder classifies: its head has the dataset's classes, drawn from the trial's seed when the checkpoint has none.
            if (data.Task != TaskKind.TextClassification)
                throw new ArgumentException($"encoder '{huggingFaceFolder}' classifies labelled text (.jsonl, .csv or a folder of splits), not '{datasetName}'");
            return new BaseModel(EncoderClassifier.FromPretrained(huggingFaceFolder, (int)data.Classes, initSeed, pooling), hash, huggingFaceFolder, Pretrained: false, TimeSpan.Zero);
        }
        if (huggingFaceFolder is not null)
        {
            // A decoder folder of any family (llama, mistral, qwen2, qwen3, gpt2), by its config.json's model_type.
            if (!MetricNames.IsLanguageModelling(data.Task))
                throw new ArgumentException($"decoder '{huggingFaceFolder}' trains on text (a causal language modelling dataset), not '{datasetName}'");
            var decoder = CausalLanguageModels.FromPretrained(huggingFaceFolder, load);
            if (data.Classes > decoder.VocabSize)
            {
                decoder.Dispose();
                throw new ArgumentException($"dataset '{datasetName}' has {data.Classes} token ids but decoder '{huggingFaceFolder}' only {decoder.VocabSize} (vocab_size); tokenize with the folder's tokenizer");
            }
            return new BaseModel((nn.Module<Tensor, Tensor>)decoder, hash, huggingFaceFolder, Pretrained: false, TimeSpan.Zero);
        }
        if (model == BuiltInModels.Llama && data.Task != TaskKind.CausalLm)
            throw new ArgumentException($"model 'llama' trains on a text dataset, not '{datasetName}'");
        if (spec.Checkpoint is { } checkpoint)
        {
            var fromFile = ModelCatalog.Create(model, initSeed, vocabSize: vocabSize);
            LoadStateDict(fromFile, checkpoint);
            return new BaseModel(fromFile, hash, checkpoint, Pretrained: false, TimeSpan.Zero);
        }
        if (spec.Pretrain is not { } pretrain)
            return new BaseModel(ModelCatalog.Create(model, initSeed, vocabSize: vocabSize), hash, "init", Pretrained: false, TimeSpan.Zero);

        var path = Path.Combine(cacheDirectory, hash, ModelFile);
        var elapsed = TimeSpan.Zero;
        var gate = Gates.GetOrAdd(hash, _ => new SemaphoreSlim(1, 1));
        gate.Wait(cancellationToken);
        try
        {
            if (!File.Exists(path))
            {
                void PretrainHere() => elapsed = Pretrain(model, datasetName, data, spec, pretrain, vocabSize, path, cancellationToken);
                if (Share.Value is { } share) share.Provide(hash, Path.GetDirectoryName(path)!, PretrainHere, cancellationToken);
                else PretrainHere();
            }
        }
        finally
        {
            gate.Release();
        }

        var loaded = ModelCatalog.Create(model, pretrain.Seed, vocabSize: vocabSize);
        LoadStateDict(loaded, path);
        return new BaseModel(loaded, hash, path, Pretrained: true, elapsed);
    }

    private static TimeSpan Pretrain(string model, string datasetName, ITrainingDataset data, BaseModelSpec spec, PretrainSpec pretrain,
        int vocabSize, string path, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        using var network = ModelCatalog.Create(model, pretrain.Seed, vocabSize: vocabSize);
        var trainable = network.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        foreach (var (_, p) in trainable) p.requires_grad = true;
        var config = new TrainingConfig
        {
            Model = model, Dataset = datasetName, Adapter = AdapterKind.Full,
            LearningRate = pretrain.LearningRate, WeightDecay = 0, Schedule = ScheduleKind.Constant, GradClip = 0,
            BatchSize = pretrain.BatchSize, Epochs = pretrain.Epochs, Seed = pretrain.Seed,
        };
        var result = TrainingLoop.Run(network, data, trainable, new TrainingLoopOptions { Config = config, CancellationToken = cancellationToken });
        if (result.StoppedEarly)
            throw new OperationCanceledException("pretraining of the base model was cancelled", cancellationToken);

        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["spec"] = CanonicalJson(model, datasetName, spec, vocabSize),
            ["metrics"] = JsonSerializer.Serialize(new SortedDictionary<string, double>(result.Metrics.ToDictionary(), StringComparer.Ordinal)),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var scope = torch.NewDisposeScope())
        {
            var tensors = network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu());
            // SafetensorsFile.Write is itself temp + rename, so a concurrent reader never sees half a file.
            SafetensorsFile.Write(path, tensors, metadata);
        }
        AtomicFile.WriteAllText(Path.Combine(Path.GetDirectoryName(path)!, SpecFile), CanonicalJson(model, datasetName, spec, vocabSize));
        return watch.Elapsed;
    }

    /// <summary>sha256 of a file, or of a folder's config.json, model.safetensors and (sharded) index and shards; null when absent.</summary>
    private static string? ContentHash(string path)
    {
        if (File.Exists(path)) return FileHashes.Sha256(path);
        if (!Directory.Exists(path)) return null;
        var shards = File.Exists(Path.Combine(path, EncoderClassifier.ShardIndexFileName))
            ? ShardIndex.Read(Path.Combine(path, EncoderClassifier.ShardIndexFileName)).Files.Prepend(EncoderClassifier.ShardIndexFileName)
            : [];
        var parts = new[] { LlamaConfig.FileName, LlamaModel.WeightsFileName }.Concat(shards)
            .Select(name => Path.Combine(path, name))
            .Select(file => File.Exists(file) ? FileHashes.Sha256(file) : "-");
        return FileHashes.Sha256(Encoding.UTF8.GetBytes(string.Join(",", parts)));
    }

    /// <summary>Copies every tensor of a safetensors file into the model's state of the same name (all must match).</summary>
    public static void LoadStateDict(nn.Module model, string path)
    {
        var (tensors, _) = SafetensorsFile.ReadAll(path);
        try
        {
            var state = model.state_dict();
            var missing = state.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
            var unexpected = tensors.Keys.Where(k => !state.ContainsKey(k)).ToList();
            if (missing.Count > 0 || unexpected.Count > 0)
                throw new InvalidDataException($"{path} does not fit the model: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", unexpected)}]");
            using var noGrad = torch.no_grad();
            foreach (var (name, target) in state)
            {
                var source = tensors[name];
                if (!source.shape.SequenceEqual(target.shape))
                    throw new InvalidDataException($"{path}: '{name}' has shape [{string.Join(", ", source.shape)}], the model expects [{string.Join(", ", target.shape)}]");
                target.copy_(source);
            }
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }
}
