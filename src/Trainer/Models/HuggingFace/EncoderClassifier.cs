using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Models.HuggingFace;

/// <summary>
/// transformers' <c>BertForSequenceClassification</c> (pooler dense + tanh on [CLS], dropout, <c>classifier</c>),
/// <c>DistilBertForSequenceClassification</c> (<c>pre_classifier</c> + ReLU, dropout, <c>classifier</c> on the first
/// token) and <c>RobertaForSequenceClassification</c> (<c>classifier.dense</c> + tanh, <c>classifier.out_proj</c> on
/// &lt;s&gt;), as one module with Hugging Face's names (<c>bert.encoder.layer.0.attention.self.query</c>,
/// <c>distilbert.transformer.layer.0.attention.q_lin</c>, …). With <see cref="EncoderPooling.Mean"/> (a
/// sentence-transformers model's own pooling) the masked mean of the last hidden states takes the first token's
/// place, and BERT has no pooler: the head is dropout + <c>classifier</c> on the mean, as a SetFit-style head.
/// </summary>
/// <remarks>
/// Input: [B, 2, T] int64, token ids then attention mask (1 = token, 0 = padding), as the text-classification
/// dataset stores it; or [B, T] ids, whose mask is then ids ≠ pad_token_id. Output: logits [B, num_labels]. Padding
/// never changes a result: padded keys are masked out of every attention and only the first token is classified.
/// The head is PEFT's modules_to_save: it trains in full beside an adapter, and is never a LoRA target.
/// </remarks>
public sealed class EncoderClassifier : nn.Module<Tensor, Tensor>, IModulesToSave
{
    public const string WeightsFileName = "model.safetensors";
    public const string ShardIndexFileName = "model.safetensors.index.json";

#pragma warning disable IDE1006 // field names are the HF module names; one backbone field is set, by family
    private readonly BertBackbone? bert;
    private readonly BertBackbone? roberta;
    private readonly DistilBertBackbone? distilbert;
    private nn.Module<Tensor, Tensor>? pre_classifier;
    private readonly GeneratorDropout? dropout;
    private nn.Module<Tensor, Tensor> classifier;
#pragma warning restore IDE1006

    private EncoderClassifier(EncoderConfig config, int numLabels) : base(config.Family switch
    {
        EncoderFamily.Bert => "BertForSequenceClassification",
        EncoderFamily.DistilBert => "DistilBertForSequenceClassification",
        _ => "RobertaForSequenceClassification",
    })
    {
        config.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(numLabels, 1);
        Config = config;
        NumLabels = numLabels;
        switch (config.Family)
        {
            case EncoderFamily.Bert:
                bert = new BertBackbone(config, addPooler: config.HasPooler);
                dropout = new GeneratorDropout(config.ClassifierDropout);
                classifier = nn.Linear(config.HiddenSize, numLabels);
                break;
            case EncoderFamily.DistilBert:
                distilbert = new DistilBertBackbone(config);
                pre_classifier = nn.Linear(config.HiddenSize, config.HiddenSize);
                dropout = new GeneratorDropout(config.ClassifierDropout);
                classifier = nn.Linear(config.HiddenSize, numLabels);
                break;
            default:
                roberta = new BertBackbone(config, addPooler: false);
                classifier = new RobertaClassificationHead(config, numLabels);
                break;
        }
        RegisterComponents();
        ModulesToSave = config.HeadModules;
    }

    public EncoderConfig Config { get; }
    public int NumLabels { get; }

    /// <summary>The head (<see cref="EncoderConfig.HeadModules"/>), plus BERT's pooler when the checkpoint had none and it was initialised here.</summary>
    public IReadOnlyList<string> ModulesToSave { get; private set; }

    /// <summary>Random weights as transformers' _init_weights: N(0, initializer_range) for linear and embedding weights (padding row zero), zero biases, unit LayerNorms.</summary>
    public static EncoderClassifier Create(EncoderConfig config, int numLabels, long seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        var model = new EncoderClassifier(config, numLabels);
        model.Initialise(model.named_parameters().Select(p => p.name).ToList(), seed);
        return model;
    }

    /// <summary>
    /// Loads a Hugging Face folder: <c>config.json</c> and <c>model.safetensors</c>, or the shards a
    /// <c>model.safetensors.index.json</c> names. Tensor names may carry the family prefix (<c>bert.</c>, as
    /// *ForSequenceClassification and BertModel exports from the Hub) or not (sentence-transformers and ONNX
    /// conversions: <c>embeddings.word_embeddings.weight</c>); old <c>LayerNorm.gamma/beta</c> read as weight/bias;
    /// pretraining heads (<c>cls.</c>, <c>lm_head.</c>, <c>vocab_*</c>) and <c>position_ids</c> buffers are ignored.
    /// A checkpoint without a classification head gets one drawn from <paramref name="seed"/>, as transformers
    /// initialises a new head; one with a head must have <paramref name="numLabels"/> outputs.
    /// </summary>
    /// <param name="pooling">Overrides the folder's own pooling (<see cref="EncoderConfig.Load"/>); a checkpoint's pooler is then unused.</param>
    public static EncoderClassifier FromPretrained(string folder, int numLabels, long seed, EncoderPooling? pooling = null)
    {
        var configPath = Path.Combine(folder, EncoderConfig.FileName);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"Encoder folder '{folder}' has no {EncoderConfig.FileName}.", configPath);
        var config = EncoderConfig.Load(configPath);
        var model = new EncoderClassifier(pooling is { } chosen ? config with { Pooling = chosen } : config, numLabels);
        var (tensors, source) = ReadCheckpoint(folder);
        try
        {
            model.LoadWeights(tensors, source, seed);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        finally
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
        return model;
    }

    /// <summary>Writes <c>config.json</c> (id2label of num_labels) and <c>model.safetensors</c> under transformers' names.</summary>
    public void SavePretrained(string folder)
    {
        Directory.CreateDirectory(folder);
        using (var scope = NewDisposeScope())
        {
            var weights = state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu());
            SafetensorsFile.Write(Path.Combine(folder, WeightsFileName), weights, new Dictionary<string, string> { ["format"] = "pt" });
        }
        var configPath = Path.Combine(folder, EncoderConfig.FileName);
        var temp = configPath + $".{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temp, Config.ToJson(NumLabels));
        File.Move(temp, configPath, overwrite: true);
    }

    public override Tensor forward(Tensor input)
    {
        if (input.dtype != ScalarType.Int64 || input.dim() is not (2 or 3) || (input.dim() == 3 && input.shape[1] != 2))
            throw new ArgumentException($"Expected int64 [batch, 2, tokens] (ids, attention mask) or [batch, tokens] ids, got {input.dtype} [{string.Join(", ", input.shape)}].", nameof(input));
        if (input.shape[^1] > Config.MaxSequenceLength)
            throw new ArgumentException($"{input.shape[^1]} tokens exceed the {Config.MaxSequenceLength} positions of this {Config.ModelType} (lower seq_len).", nameof(input));
        using var scope = NewDisposeScope();
        var ids = input.dim() == 3 ? input.select(1, 0) : input;
        var mask = input.dim() == 3 ? input.select(1, 1) : input.ne(Config.PadTokenId).to(ScalarType.Int64);
        var mean = Config.Pooling == EncoderPooling.Mean;
        Tensor logits;
        switch (Config.Family)
        {
            case EncoderFamily.Bert:
                var hidden = bert!.Forward(ids, mask);
                logits = classifier.forward(dropout!.forward(mean ? MaskedMean(hidden, mask) : bert.Pool(hidden)));
                break;
            case EncoderFamily.DistilBert:
                var states = distilbert!.Forward(ids, mask);
                var summary = mean ? MaskedMean(states, mask) : states.select(1, 0);
                logits = classifier.forward(dropout!.forward(nn.functional.relu(pre_classifier!.forward(summary))));
                break;
            default:
                var outputs = roberta!.Forward(ids, mask);
                // RoBERTa's head reads position 0 itself: give it the mean there.
                logits = classifier.forward(mean ? MaskedMean(outputs, mask).unsqueeze(1) : outputs);
                break;
        }
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>sentence-transformers' mean pooling: the mean of the hidden states [B, T, H] over the tokens the mask keeps.</summary>
    private static Tensor MaskedMean(Tensor hidden, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var weights = mask.to(hidden.dtype).unsqueeze(-1);
        return hidden.mul(weights).sum(1).div_(weights.sum(1).clamp_min(1e-9)).MoveToOuterDisposeScope();
    }

    /// <summary>The tensors of a folder's single file or of every shard its index names, and a name for errors.</summary>
    public static (Dictionary<string, Tensor> Tensors, string Source) ReadCheckpoint(string folder)
    {
        var single = Path.Combine(folder, WeightsFileName);
        if (!File.Exists(single) && !File.Exists(Path.Combine(folder, ShardIndexFileName)))
            throw new FileNotFoundException($"Encoder folder '{folder}' has neither {WeightsFileName} nor {ShardIndexFileName}.", single);
        using var checkpoint = CheckpointTensors.Open(folder, WeightsFileName, ShardIndexFileName);
        return (checkpoint.ReadAll(), checkpoint.Source);
    }

    /// <summary>A checkpoint tensor's name in this model (prefixed, LayerNorm weight/bias), or null for tensors the classifier does not use.</summary>
    private string? ModelName(string name)
    {
        if (name.EndsWith("position_ids", StringComparison.Ordinal) || name.EndsWith("token_type_ids", StringComparison.Ordinal)) return null;
        foreach (var ignored in new[] { "cls.", "lm_head.", "vocab_transform.", "vocab_layer_norm.", "vocab_projector.", "qa_outputs." })
            if (name.StartsWith(ignored, StringComparison.Ordinal)) return null;
        if (name.EndsWith("LayerNorm.gamma", StringComparison.Ordinal)) name = name[..^"gamma".Length] + "weight";
        else if (name.EndsWith("LayerNorm.beta", StringComparison.Ordinal)) name = name[..^"beta".Length] + "bias";
        var prefix = Config.Prefix + ".";
        var first = name.Split('.')[0];
        if (first is "embeddings" or "encoder" or "pooler" or "transformer") name = prefix + name;
        // RobertaModel exports carry a pooler that RobertaForSequenceClassification does not have; a mean-pooling head reads none.
        if (!Config.HasPooler && name.StartsWith(prefix + "pooler.", StringComparison.Ordinal)) return null;
        return name;
    }

    private void LoadWeights(IReadOnlyDictionary<string, Tensor> tensors, string source, long seed)
    {
        var own = state_dict();
        var given = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        foreach (var (name, tensor) in tensors)
        {
            if (ModelName(name) is not { } mapped) continue;
            if (own.ContainsKey(mapped)) given[mapped] = tensor;
            else unexpected.Add(name);
        }
        var mismatched = given.Where(kv => !own[kv.Key].shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key} (checkpoint [{string.Join(",", kv.Value.shape)}], model [{string.Join(",", own[kv.Key].shape)}])")
            .ToList();
        var missing = own.Keys.Where(name => !given.ContainsKey(name)).ToList();
        bool InHead(string name) => Config.HeadModules.Any(m => name.StartsWith(m + ".", StringComparison.Ordinal));
        var headMissing = missing.Where(InHead).ToList();
        var headCount = own.Keys.Count(InHead);
        var poolerMissing = missing.Where(n => n.StartsWith("bert.pooler.", StringComparison.Ordinal)).ToList();
        var problems = new List<string>();
        var backboneMissing = missing.Except(headMissing).Except(poolerMissing).ToList();
        if (backboneMissing.Count > 0) problems.Add($"missing: {string.Join(", ", backboneMissing.Take(20))}{(backboneMissing.Count > 20 ? ", …" : "")}");
        if (headMissing.Count > 0 && headMissing.Count < headCount) problems.Add($"a partial classification head, missing {string.Join(", ", headMissing)}");
        if (poolerMissing.Count is > 0 and < 2) problems.Add($"a partial pooler, missing {string.Join(", ", poolerMissing)}");
        if (unexpected.Count > 0) problems.Add($"unexpected: {string.Join(", ", unexpected.Order(StringComparer.Ordinal).Take(20))}");
        if (mismatched.Count > 0) problems.Add($"shape mismatch: {string.Join(", ", mismatched)}");
        if (problems.Count > 0)
            throw new InvalidDataException($"'{source}' does not fit its {EncoderConfig.FileName} ({Config.ModelType}, {NumLabels} labels): {string.Join("; ", problems)}.");

        using (no_grad())
        {
            foreach (var (name, tensor) in given) own[name].copy_(tensor);
        }
        // A new head (and BERT's pooler, when the export left it out) starts from the trial's seed, as transformers would draw it.
        Initialise(missing, seed);
        if (poolerMissing.Count > 0) ModulesToSave = ["pooler", .. Config.HeadModules];
    }

    private void Initialise(IReadOnlyCollection<string> names, long seed)
    {
        if (names.Count == 0) return;
        var wanted = names.ToHashSet(StringComparer.Ordinal);
        using var generator = new Generator(unchecked((ulong)seed));
        using var noGrad = no_grad();
        foreach (var (name, parameter) in named_parameters())
        {
            if (!wanted.Contains(name)) continue;
            using var scope = NewDisposeScope();
            if (name.EndsWith(".bias", StringComparison.Ordinal)) parameter.zero_();
            else if (name.Contains("LayerNorm.", StringComparison.Ordinal) || name.Contains("layer_norm.", StringComparison.Ordinal)) parameter.fill_(1.0);
            else
            {
                parameter.copy_(randn(parameter.shape, generator: generator).mul_(Config.InitializerRange));
                if (name.EndsWith("word_embeddings.weight", StringComparison.Ordinal)
                    || (Config.Family == EncoderFamily.Roberta && name.EndsWith("position_embeddings.weight", StringComparison.Ordinal)))
                    parameter[Config.PadTokenId].zero_();
            }
        }
    }
}
