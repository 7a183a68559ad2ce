using Orchestrator.Trainer.Safetensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Orchestrator.Trainer.Models.Decoders;
using Orchestrator.Trials.Models.Decoders;
using Orchestrator.Trainer.Memory;
using Orchestrator.Trainer.Models.HuggingFace;

namespace Orchestrator.Trainer.Models.Llama;

/// <summary>
/// Llama as transformers' <c>LlamaForCausalLM</c> (eager attention): token ids [B, T] (int64) to logits [B, T, V].
/// The same class is <c>MistralForCausalLM</c> (sliding window), <c>Qwen2ForCausalLM</c> (q/k/v biases) and
/// <c>Qwen3ForCausalLM</c> (per-head q/k RMS norms), as their config.json's model_type says.
/// Module paths and tensor names are Hugging Face's (<c>model.layers.0.self_attn.q_proj</c>, …), so a
/// <c>model.safetensors</c> from the Hub loads as is and PEFT adapter keys line up. Weights are float32.
/// </summary>
public sealed class LlamaModel : nn.Module<Tensor, Tensor>, ICausalLanguageModel
{
    public const string WeightsFileName = "model.safetensors";

#pragma warning disable IDE1006 // field names are the HF module names
    private readonly LlamaBackbone model;
    private nn.Module<Tensor, Tensor> lm_head;
#pragma warning restore IDE1006

    public LlamaConfig Config { get; }

    /// <param name="weights">Where the linear and embedding weights are built: the CPU, or the meta device (no memory) for a model whose weights then load tensor by tensor.</param>
    private LlamaModel(LlamaConfig config, Device? weights = null) : base("LlamaForCausalLM")
    {
        config.Validate();
        Config = config;
        model = new LlamaBackbone(config, weights);
        var head = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false, device: weights);
        if (config.TieWordEmbeddings) head.weight = model.EmbedTokens.weight!;
        lm_head = head;
        RegisterComponents();
    }

    /// <summary>Random weights the way transformers initialises them: N(0, initializer_range) for linear and embedding weights, ones for norms.</summary>
    public static LlamaModel Create(LlamaConfig config, long seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        var llama = new LlamaModel(config);
        using var generator = new torch.Generator(unchecked((ulong)seed));
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in llama.named_parameters())
        {
            if (config.TieWordEmbeddings && name == "lm_head.weight") continue;
            using var scope = torch.NewDisposeScope();
            if (name.EndsWith("norm.weight", StringComparison.Ordinal))
                parameter.fill_(1.0);
            else
                parameter.copy_(torch.randn(parameter.shape, generator: generator).mul_(config.InitializerRange));
        }
        return llama;
    }

    /// <summary>
    /// Loads <c>config.json</c> and the weights (<c>model.safetensors</c> or shards) of a Hugging Face model folder,
    /// tensor by tensor into a model built on the meta device, each linear and embedding weight taking the form
    /// <paramref name="load"/> gives it (fp32 when null: the file's values, bit for bit for an F32 file).
    /// </summary>
    public static LlamaModel FromPretrained(string folder, BaseLoad? load = null)
    {
        var configPath = Path.Combine(folder, LlamaConfig.FileName);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"Llama folder '{folder}' has no {LlamaConfig.FileName}.", configPath);
        var config = LlamaConfig.Load(configPath);
        using var checkpoint = DecoderCheckpoint.Open(folder);
        var llama = new LlamaModel(config, torch.META);
        try
        {
            var expected = llama.CheckNames(checkpoint);
            TensorByTensorLoader.Load(llama, checkpoint, expected.Select(name => (name, name)), load ?? BaseLoad.Fp32);
            // The head shared the embedding's meta weight; it shares the loaded one now.
            if (config.TieWordEmbeddings) ((Linear)llama.lm_head).weight = llama.model.EmbedTokens.weight!;
        }
        catch
        {
            llama.Dispose();
            throw;
        }
        return llama;
    }

    /// <summary>Writes <c>config.json</c> and <c>model.safetensors</c> (without <c>lm_head.weight</c> when tied, as transformers does).</summary>
    public void SavePretrained(string folder)
    {
        Directory.CreateDirectory(folder);
        var weights = WeightNames().ToDictionary(name => name, name => StateDict[name]);
        SafetensorsFile.Write(Path.Combine(folder, WeightsFileName), weights, new Dictionary<string, string> { ["format"] = "pt" });
        var config = Config with { NumKeyValueHeads = Config.KeyValueHeads, HeadDim = Config.HeadDimension, TorchDtype = "float32" };
        var configPath = Path.Combine(folder, LlamaConfig.FileName);
        var temp = configPath + $".{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temp, config.ToJson());
        File.Move(temp, configPath, overwrite: true);
    }

    public override Tensor forward(Tensor inputIds) => Logits(inputIds);

    public IReadOnlyList<string> ModulesToSave { get; private set; } = [];

    public void TrainInFull(IReadOnlyList<string> names)
    {
        var architecture = DecoderArchitecture.FromLlama(Config); // which head and embedding are tied: config.json's one answer
        ModulesToSave = DecoderModulesToSave.Resolve(this, names, architecture.TiedHead, architecture.TiedEmbedding);
    }

    public int VocabSize => Config.VocabSize;

    public int MaxPositions => Config.MaxPositionEmbeddings;

    public Tensor Logits(Tensor inputIds, Tensor? attentionMask = null, Tensor? positionIds = null)
    {
        if (inputIds.dim() != 2 || inputIds.dtype != ScalarType.Int64)
            throw new ArgumentException($"Expected int64 token ids [batch, tokens], got {inputIds.dtype} [{string.Join(", ", inputIds.shape)}].", nameof(inputIds));
        using var scope = torch.NewDisposeScope();
        var hidden = model.Forward(inputIds, attentionMask, positionIds);
        return lm_head.forward(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>With tied embeddings, the shared weight appears once (as <c>model.embed_tokens.weight</c>), as in PyTorch, so an optimiser steps it once.</summary>
    public override IEnumerable<(string name, Parameter parameter)> named_parameters(bool recurse = true) =>
        base.named_parameters(recurse).Where(p => !(Config.TieWordEmbeddings && p.name == "lm_head.weight"));

    /// <summary>The tensor names a checkpoint of this model holds.</summary>
    public IEnumerable<string> WeightNames() =>
        StateDict.Keys.Where(name => !(Config.TieWordEmbeddings && name == "lm_head.weight"));

    private Dictionary<string, Tensor> StateDict => state_dict();

    /// <summary>The names to load, once the checkpoint's names and shapes (from its headers) match the model's.</summary>
    private List<string> CheckNames(CheckpointTensors checkpoint)
    {
        var own = StateDict;
        var expected = WeightNames().ToList();
        var source = checkpoint.Source;
        var missing = expected.Where(name => !checkpoint.Contains(name)).ToList();
        // Old exports carry rotary_emb.inv_freq; a tied checkpoint may still hold lm_head.weight.
        var unexpected = checkpoint.Names
            .Where(name => !own.ContainsKey(name) && !name.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        var mismatched = expected.Where(checkpoint.Contains)
            .Where(name => !own[name].shape.SequenceEqual(checkpoint.ShapeOf(name)))
            .Select(name => $"{name} (checkpoint [{string.Join(",", checkpoint.ShapeOf(name))}], model [{string.Join(",", own[name].shape)}])")
            .ToList();
        if (missing.Count + unexpected.Count + mismatched.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"missing: {string.Join(", ", missing)}");
            if (unexpected.Count > 0) parts.Add($"unexpected: {string.Join(", ", unexpected)}");
            if (mismatched.Count > 0) parts.Add($"shape mismatch: {string.Join(", ", mismatched)}");
            throw new InvalidDataException($"'{source}' does not match its config.json: {string.Join("; ", parts)}.");
        }
        return expected;
    }
}

/// <summary>transformers' <c>LlamaModel</c>: embeddings, decoder layers, final norm.</summary>
internal sealed class LlamaBackbone : nn.Module
{
#pragma warning disable IDE1006
    private readonly Embedding embed_tokens;
    private readonly ModuleList<LlamaDecoderLayer> layers;
    private readonly LlamaRmsNorm norm;
    private readonly LlamaRotaryEmbedding rotary_emb;
#pragma warning restore IDE1006

    private readonly LlamaConfig _config;

    public LlamaBackbone(LlamaConfig config, Device? weights) : base("LlamaModel")
    {
        _config = config;
        embed_tokens = DecoderEmbedding.Create(config.VocabSize, config.HiddenSize, weights);
        layers = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new LlamaDecoderLayer(config, weights)).ToArray());
        norm = new LlamaRmsNorm(config.HiddenSize, config.RmsNormEps);
        rotary_emb = new LlamaRotaryEmbedding(config);
        RegisterComponents();
    }

    public Embedding EmbedTokens => embed_tokens;

    public Tensor Forward(Tensor inputIds, Tensor? attentionMask, Tensor? positionIds)
    {
        using var scope = torch.NewDisposeScope();
        var tokens = inputIds.shape[1];
        var hidden = embed_tokens.forward(inputIds);
        positionIds ??= CausalMasks.PositionIds(inputIds, attentionMask);
        var (cos, sin) = rotary_emb.CosSin(positionIds, hidden.dtype);
        // Masked where true: above the diagonal, and every padded key (filled with the dtype's minimum, as eager attention).
        var mask = CausalMasks.Blocked(tokens, attentionMask, hidden.device);
        var windowed = new Dictionary<int, Tensor>();
        for (var i = 0; i < layers.Count; i++)
        {
            var layerMask = _config.SlidingWindowOf(i) is { } window
                ? windowed.TryGetValue(window, out var known) ? known : windowed[window] = CausalMasks.Blocked(tokens, attentionMask, hidden.device, window)
                : mask;
            var layer = layers[i];
            hidden = GradientCheckpointing.Run((h, c) => layer.Forward(h, c[0], c[1], c[2]), hidden, cos, sin, layerMask);
        }
        return norm.forward(hidden).MoveToOuterDisposeScope();
    }
}

internal sealed class LlamaDecoderLayer : nn.Module
{
#pragma warning disable IDE1006
    private readonly LlamaAttention self_attn;
    private readonly LlamaMlp mlp;
    private readonly LlamaRmsNorm input_layernorm;
    private readonly LlamaRmsNorm post_attention_layernorm;
#pragma warning restore IDE1006

    public LlamaDecoderLayer(LlamaConfig config, Device? weights) : base("LlamaDecoderLayer")
    {
        self_attn = new LlamaAttention(config, weights);
        mlp = new LlamaMlp(config, weights);
        input_layernorm = new LlamaRmsNorm(config.HiddenSize, config.RmsNormEps);
        post_attention_layernorm = new LlamaRmsNorm(config.HiddenSize, config.RmsNormEps);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor cos, Tensor sin, Tensor causalMask)
    {
        using var scope = torch.NewDisposeScope();
        var x = hidden + self_attn.Forward(input_layernorm.forward(hidden), cos, sin, causalMask);
        return (x + mlp.forward(post_attention_layernorm.forward(x))).MoveToOuterDisposeScope();
    }
}

internal sealed class LlamaAttention : nn.Module
{
#pragma warning disable IDE1006
    private nn.Module<Tensor, Tensor> q_proj;
    private nn.Module<Tensor, Tensor> k_proj;
    private nn.Module<Tensor, Tensor> v_proj;
    private nn.Module<Tensor, Tensor> o_proj;
    private readonly LlamaRmsNorm? q_norm;
    private readonly LlamaRmsNorm? k_norm;
#pragma warning restore IDE1006
    private readonly int _heads;
    private readonly int _kvHeads;
    private readonly int _headDim;

    public LlamaAttention(LlamaConfig config, Device? weights) : base("LlamaAttention")
    {
        _heads = config.NumAttentionHeads;
        _kvHeads = config.KeyValueHeads;
        _headDim = config.HeadDimension;
        q_proj = nn.Linear(config.HiddenSize, _heads * _headDim, hasBias: config.QkvBias, device: weights);
        k_proj = nn.Linear(config.HiddenSize, _kvHeads * _headDim, hasBias: config.QkvBias, device: weights);
        v_proj = nn.Linear(config.HiddenSize, _kvHeads * _headDim, hasBias: config.QkvBias, device: weights);
        o_proj = nn.Linear(_heads * _headDim, config.HiddenSize, hasBias: config.AttentionBias, device: weights);
        if (config.QkNorm)
        {
            q_norm = new LlamaRmsNorm(_headDim, config.RmsNormEps);
            k_norm = new LlamaRmsNorm(_headDim, config.RmsNormEps);
        }
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor cos, Tensor sin, Tensor causalMask)
    {
        using var scope = torch.NewDisposeScope();
        long batch = hidden.shape[0], tokens = hidden.shape[1];
        var q = q_proj.forward(hidden).view(batch, tokens, _heads, _headDim);
        var k = k_proj.forward(hidden).view(batch, tokens, _kvHeads, _headDim);
        if (q_norm is not null) q = q_norm.forward(q);
        if (k_norm is not null) k = k_norm!.forward(k);
        q = q.transpose(1, 2);
        k = k.transpose(1, 2);
        var v = v_proj.forward(hidden).view(batch, tokens, _kvHeads, _headDim).transpose(1, 2);

        q = q * cos + RotateHalf(q) * sin;
        k = k * cos + RotateHalf(k) * sin;
        k = RepeatKv(k, _heads / _kvHeads);
        v = RepeatKv(v, _heads / _kvHeads);

        var scores = torch.matmul(q, k.transpose(2, 3)).mul_(1.0 / Math.Sqrt(_headDim));
        scores = scores.masked_fill(causalMask, MinValue(scores.dtype));
        var weights = torch.nn.functional.softmax(scores, -1, ScalarType.Float32).to(q.dtype);
        var attended = torch.matmul(weights, v).transpose(1, 2).contiguous().view(batch, tokens, _heads * _headDim);
        return o_proj.forward(attended).MoveToOuterDisposeScope();
    }

    /// <summary>rotate_half: [x1, x2] → [-x2, x1] over the last dimension.</summary>
    private static Tensor RotateHalf(Tensor x)
    {
        var half = x.shape[^1] / 2;
        var x1 = x[TensorIndex.Ellipsis, TensorIndex.Slice(null, half)];
        var x2 = x[TensorIndex.Ellipsis, TensorIndex.Slice(half, null)];
        return torch.cat([-x2, x1], -1);
    }

    /// <summary>repeat_kv: [B, kv, T, D] → [B, kv·groups, T, D], each key/value head shared by <paramref name="groups"/> query heads.</summary>
    private static Tensor RepeatKv(Tensor x, int groups)
    {
        if (groups == 1) return x;
        long batch = x.shape[0], kvHeads = x.shape[1], tokens = x.shape[2], dim = x.shape[3];
        return x.unsqueeze(2).expand(batch, kvHeads, groups, tokens, dim).reshape(batch, kvHeads * groups, tokens, dim);
    }

    private static double MinValue(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => double.MinValue,
        ScalarType.Float16 => -65504.0,
        ScalarType.BFloat16 => -3.3895313892515355e38,
        _ => float.MinValue,
    };
}

internal sealed class LlamaMlp : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private nn.Module<Tensor, Tensor> gate_proj;
    private nn.Module<Tensor, Tensor> up_proj;
    private nn.Module<Tensor, Tensor> down_proj;
#pragma warning restore IDE1006

    public LlamaMlp(LlamaConfig config, Device? weights) : base("LlamaMLP")
    {
        gate_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: config.MlpBias, device: weights);
        up_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: config.MlpBias, device: weights);
        down_proj = nn.Linear(config.IntermediateSize, config.HiddenSize, hasBias: config.MlpBias, device: weights);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        return down_proj.forward(torch.nn.functional.silu(gate_proj.forward(x)) * up_proj.forward(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>LlamaRMSNorm: x / sqrt(mean(x²) + eps) computed in float32, times a learned per-channel weight.</summary>
internal sealed class LlamaRmsNorm : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly Parameter weight;
#pragma warning restore IDE1006
    private readonly double _eps;

    public LlamaRmsNorm(int size, double eps) : base("LlamaRMSNorm")
    {
        weight = new Parameter(torch.ones(size));
        _eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var x32 = x.to(ScalarType.Float32);
        var variance = x32.pow(2).mean([-1], keepdim: true);
        var normed = x32 * torch.rsqrt(variance + _eps);
        return (weight * normed.to(x.dtype)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// LlamaRotaryEmbedding (rope types default, linear, dynamic and llama3): cos and sin of position × inverse frequency.
/// </summary>
internal sealed class LlamaRotaryEmbedding : nn.Module
{
    private readonly float[] _inverseFrequencies;
    private readonly LlamaConfig _config;

    public LlamaRotaryEmbedding(LlamaConfig config) : base("LlamaRotaryEmbedding")
    {
        _config = config;
        _inverseFrequencies = InverseFrequencies(config.RopeTheta, config.HeadDimension);
        switch (config.RopeScaling)
        {
            case { Type: "llama3" } scaling:
                Llama3Scale(_inverseFrequencies, scaling);
                break;
            case { Type: "linear" } scaling:
                // transformers' _compute_linear_scaling_rope_parameters: positions / factor, as inv_freq / factor.
                for (var i = 0; i < _inverseFrequencies.Length; i++) _inverseFrequencies[i] /= (float)scaling.Factor;
                break;
        }
        RegisterComponents();
    }

    // In float32, as transformers computes inv_freq = 1 / base ** (arange(0, dim, 2).float() / dim).
    private static float[] InverseFrequencies(double theta, int dim) => Enumerable.Range(0, dim / 2)
        .Select(i => 1.0f / MathF.Pow((float)theta, (float)(2 * i) / dim))
        .ToArray();

    /// <summary>
    /// Dynamic NTK scaling (transformers' _compute_dynamic_ntk_parameters): past max_position_embeddings the base grows with
    /// the longest sequence (max position + 1) so the lowest frequencies still span it; within it, the default rope.
    /// </summary>
    private float[] DynamicFrequencies(Tensor positionIds)
    {
        if (_config.RopeScaling is not { Type: "dynamic" } scaling) return _inverseFrequencies;
        var length = positionIds.numel() == 0 ? 0 : positionIds.max().item<long>() + 1;
        var original = _config.MaxPositionEmbeddings;
        if (length <= original) return _inverseFrequencies;
        var dim = _config.HeadDimension;
        var theta = _config.RopeTheta * Math.Pow(scaling.Factor * length / original - (scaling.Factor - 1), (double)dim / (dim - 2));
        return InverseFrequencies(theta, dim);
    }

    /// <summary>cos and sin [B, 1, T, D] for position ids [B, T], broadcasting over the heads.</summary>
    public (Tensor Cos, Tensor Sin) CosSin(Tensor positionIds, ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        var inverse = torch.tensor(DynamicFrequencies(positionIds), device: positionIds.device);
        var frequencies = positionIds.to(ScalarType.Float32).unsqueeze(-1) * inverse;
        var embedding = torch.cat([frequencies, frequencies], -1).unsqueeze(1);
        return (embedding.cos().to(dtype).MoveToOuterDisposeScope(), embedding.sin().to(dtype).MoveToOuterDisposeScope());
    }

    // transformers' _compute_llama3_parameters: long wavelengths slowed by `factor`, short ones kept, a smooth blend between.
    private static void Llama3Scale(float[] inverse, LlamaRopeScaling scaling)
    {
        var lowFreqWavelength = scaling.OriginalMaxPositionEmbeddings / scaling.LowFreqFactor;
        var highFreqWavelength = scaling.OriginalMaxPositionEmbeddings / scaling.HighFreqFactor;
        for (var i = 0; i < inverse.Length; i++)
        {
            var wavelength = 2 * Math.PI / inverse[i];
            if (wavelength > lowFreqWavelength) inverse[i] = (float)(inverse[i] / scaling.Factor);
            else if (wavelength >= highFreqWavelength)
            {
                var smooth = (scaling.OriginalMaxPositionEmbeddings / wavelength - scaling.LowFreqFactor) / (scaling.HighFreqFactor - scaling.LowFreqFactor);
                inverse[i] = (float)((1 - smooth) * inverse[i] / scaling.Factor + smooth * inverse[i]);
            }
        }
    }
}
