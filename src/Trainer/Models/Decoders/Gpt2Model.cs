using Orchestrator.Trainer.Memory;
using Orchestrator.Trainer.Models.HuggingFace;
using Orchestrator.Trainer.Safetensors;
using Orchestrator.Trials.Models.Decoders;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Models.Decoders;

/// <summary>
/// GPT-2 as transformers' <c>GPT2LMHeadModel</c> (eager attention): learned positions (<c>wpe</c>), LayerNorm before
/// attention and MLP, a fused q/k/v projection <c>c_attn</c>, and <c>lm_head</c> tied to <c>wte</c>. transformers keeps
/// <c>c_attn</c>, <c>c_proj</c> and <c>c_fc</c> as Conv1D (weight [in, out]); here they are Linear (weight [out, in]),
/// transposed when a checkpoint is read and back when one is written, so module paths, checkpoints and PEFT adapter
/// keys are transformers' (lora_A [r, in], lora_B [out, r] either way; the adapter config says fan_in_fan_out).
/// Dropout is transformers' too, in the same places and while training only: <c>drop</c> on the embeddings
/// (embd_pdrop), <c>attn_dropout</c> on the attention probabilities (attn_pdrop), <c>resid_dropout</c> and the MLP's
/// <c>dropout</c> on the output projections (resid_pdrop); in eval mode the model is deterministic.
/// </summary>
public sealed class Gpt2Model : nn.Module<Tensor, Tensor>, ICausalLanguageModel
{
#pragma warning disable IDE1006 // field names are the HF module names
    private readonly Gpt2Backbone transformer;
    private readonly Linear lm_head;
#pragma warning restore IDE1006

    public Gpt2Config Config { get; }

    private Gpt2Model(Gpt2Config config, Device? weights = null) : base("GPT2LMHeadModel")
    {
        config.Validate();
        Config = config;
        transformer = new Gpt2Backbone(config, weights);
        lm_head = nn.Linear(config.NEmbd, config.VocabSize, hasBias: false, device: weights);
        lm_head.weight = transformer.TokenEmbedding.weight!;
        RegisterComponents();
    }

    /// <summary>Random weights as transformers initialises GPT-2: N(0, initializer_range) weights, zero biases, unit LayerNorms.</summary>
    public static Gpt2Model Create(Gpt2Config config, long seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        var gpt2 = new Gpt2Model(config);
        using var generator = new torch.Generator(unchecked((ulong)seed));
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in gpt2.named_parameters())
        {
            using var scope = torch.NewDisposeScope();
            if (name.Contains(".ln_", StringComparison.Ordinal) && name.EndsWith(".weight", StringComparison.Ordinal)) parameter.fill_(1.0);
            else if (name.EndsWith(".bias", StringComparison.Ordinal)) parameter.zero_();
            else parameter.copy_(torch.randn(parameter.shape, generator: generator).mul_(config.InitializerRange));
        }
        return gpt2;
    }

    /// <summary>
    /// Loads <c>config.json</c> and the weights (single file or shards; F32, BF16 or F16) of a GPT-2 folder, tensor by
    /// tensor into a model built on the meta device, in the form <paramref name="load"/> gives (fp32 when null).
    /// </summary>
    public static Gpt2Model FromPretrained(string folder, BaseLoad? load = null)
    {
        var configPath = Path.Combine(folder, Gpt2Config.FileName);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"GPT-2 folder '{folder}' has no {Gpt2Config.FileName}.", configPath);
        var config = Gpt2Config.Load(configPath);
        using var checkpoint = DecoderCheckpoint.Open(folder);
        var gpt2 = new Gpt2Model(config, torch.META);
        try
        {
            var names = gpt2.CheckNames(checkpoint);
            TensorByTensorLoader.Load(gpt2, checkpoint, names, load ?? BaseLoad.Fp32,
                (name, tensor) => IsConv1DWeight(name) ? tensor.t().contiguous() : tensor);
            gpt2.lm_head.weight = gpt2.transformer.TokenEmbedding.weight!; // tied: the head shares the loaded embedding
        }
        catch
        {
            gpt2.Dispose();
            throw;
        }
        return gpt2;
    }

    /// <summary>Writes <c>config.json</c> and <c>model.safetensors</c> as transformers does: Conv1D weights [in, out], no <c>lm_head.weight</c>.</summary>
    public void SavePretrained(string folder)
    {
        Directory.CreateDirectory(folder);
        using (var scope = torch.NewDisposeScope())
        {
            var state = state_dict();
            var weights = WeightNames().ToDictionary(name => name,
                name => IsConv1DWeight(name) ? state[name].detach().t().contiguous() : state[name].detach());
            SafetensorsFile.Write(Path.Combine(folder, DecoderCheckpoint.WeightsFileName), weights, new Dictionary<string, string> { ["format"] = "pt" });
        }
        var configPath = Path.Combine(folder, Gpt2Config.FileName);
        var temp = configPath + $".{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temp, (Config with { TorchDtype = "float32" }).ToJson());
        File.Move(temp, configPath, overwrite: true);
    }

    /// <summary>transformers' Conv1D modules (weight [in, out] in a checkpoint), held here as Linear.</summary>
    public static bool IsConv1DWeight(string name) =>
        name.EndsWith(".weight", StringComparison.Ordinal) && (name.Contains(".attn.c_", StringComparison.Ordinal) || name.Contains(".mlp.c_", StringComparison.Ordinal));

    public int VocabSize => Config.VocabSize;

    public int MaxPositions => Config.NPositions;

    public override Tensor forward(Tensor inputIds) => Logits(inputIds);

    public Tensor Logits(Tensor inputIds, Tensor? attentionMask = null, Tensor? positionIds = null)
    {
        if (inputIds.dim() != 2 || inputIds.dtype != ScalarType.Int64)
            throw new ArgumentException($"Expected int64 token ids [batch, tokens], got {inputIds.dtype} [{string.Join(", ", inputIds.shape)}].", nameof(inputIds));
        if (inputIds.shape[1] > Config.NPositions)
            throw new ArgumentException($"{inputIds.shape[1]} tokens exceed the {Config.NPositions} learned positions (n_positions) of this GPT-2.", nameof(inputIds));
        using var scope = torch.NewDisposeScope();
        var hidden = transformer.Forward(inputIds, attentionMask, positionIds);
        return lm_head.forward(hidden).MoveToOuterDisposeScope();
    }

    public IReadOnlyList<string> ModulesToSave { get; private set; } = [];

    /// <remarks>Conv1D modules (c_attn, c_proj, c_fc) are refused: their weights are kept transposed here, and PEFT saves them in transformers' layout.</remarks>
    public void TrainInFull(IReadOnlyList<string> names)
    {
        var architecture = DecoderArchitecture.FromGpt2(Config); // lm_head is wte: config.json's one answer
        ModulesToSave = DecoderModulesToSave.Resolve(this, names, architecture.TiedHead, architecture.TiedEmbedding,
            path => IsConv1DWeight(path + ".weight") ? DecoderModulesToSave.Conv1DRefusal(path) : null);
    }

    /// <summary>The tied head appears once (as <c>transformer.wte.weight</c>), as in PyTorch, so an optimiser steps it once.</summary>
    public override IEnumerable<(string name, Parameter parameter)> named_parameters(bool recurse = true) =>
        base.named_parameters(recurse).Where(p => p.name != "lm_head.weight");

    /// <summary>The tensor names a checkpoint of this model holds (transformers' GPT2LMHeadModel names).</summary>
    public IEnumerable<string> WeightNames() => state_dict().Keys.Where(name => name != "lm_head.weight");

    /// <summary>(model name, checkpoint name) of every weight to load, once names and shapes (from the headers) match the model's.</summary>
    private List<(string ModelName, string CheckpointName)> CheckNames(CheckpointTensors checkpoint)
    {
        var source = checkpoint.Source;
        // GPT2Model exports (openai-community/gpt2) have no `transformer.` prefix and carry the causal-mask buffers attn.bias / attn.masked_bias.
        var tensors = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var checkpointNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in checkpoint.Names)
        {
            if (name.EndsWith(".attn.bias", StringComparison.Ordinal) || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal) || name == "lm_head.weight")
                continue;
            var modelName = name.StartsWith("transformer.", StringComparison.Ordinal) ? name : "transformer." + name;
            tensors[modelName] = checkpoint.ShapeOf(name);
            checkpointNames[modelName] = name;
        }
        var own = state_dict();
        var expected = WeightNames().ToList();
        var missing = expected.Where(name => !tensors.ContainsKey(name)).ToList();
        var unexpected = tensors.Keys.Where(name => !own.ContainsKey(name)).Order(StringComparer.Ordinal).ToList();
        long[] Shape(string name) => IsConv1DWeight(name) ? tensors[name].Reverse().ToArray() : tensors[name];
        var mismatched = expected.Where(tensors.ContainsKey)
            .Where(name => !own[name].shape.SequenceEqual(Shape(name)))
            .Select(name => $"{name} (checkpoint [{string.Join(",", tensors[name])}], model [{string.Join(",", own[name].shape)}]{(IsConv1DWeight(name) ? " transposed" : "")})")
            .ToList();
        if (missing.Count + unexpected.Count + mismatched.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"missing: {string.Join(", ", missing)}");
            if (unexpected.Count > 0) parts.Add($"unexpected: {string.Join(", ", unexpected)}");
            if (mismatched.Count > 0) parts.Add($"shape mismatch: {string.Join(", ", mismatched)}");
            throw new InvalidDataException($"'{source}' does not match its config.json: {string.Join("; ", parts)}.");
        }
        return expected.Select(name => (name, checkpointNames[name])).ToList();
    }
}

/// <summary>transformers' <c>GPT2Model</c>: token and position embeddings, blocks, final LayerNorm.</summary>
internal sealed class Gpt2Backbone : nn.Module
{
#pragma warning disable IDE1006
    private readonly Embedding wte;
    private readonly Embedding wpe;
    private readonly ModuleList<Gpt2Block> h;
    private readonly LayerNorm ln_f;
    private readonly Dropout drop;
#pragma warning restore IDE1006

    public Gpt2Backbone(Gpt2Config config, Device? weights) : base("GPT2Model")
    {
        wte = DecoderEmbedding.Create(config.VocabSize, config.NEmbd, weights);
        wpe = DecoderEmbedding.Create(config.NPositions, config.NEmbd, weights);
        drop = nn.Dropout(config.EmbdPdrop);
        h = nn.ModuleList(Enumerable.Range(0, config.NLayer).Select(i => new Gpt2Block(config, i, weights)).ToArray());
        ln_f = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon);
        RegisterComponents();
    }

    public Embedding TokenEmbedding => wte;

    public Tensor Forward(Tensor inputIds, Tensor? attentionMask, Tensor? positionIds)
    {
        using var scope = torch.NewDisposeScope();
        positionIds ??= CausalMasks.PositionIds(inputIds, attentionMask);
        var hidden = drop.forward(wte.forward(inputIds) + wpe.forward(positionIds));
        var mask = CausalMasks.Blocked(inputIds.shape[1], attentionMask, hidden.device);
        foreach (var block in h) hidden = block.Forward(hidden, mask);
        return ln_f.forward(hidden).MoveToOuterDisposeScope();
    }
}

internal sealed class Gpt2Block : nn.Module
{
#pragma warning disable IDE1006
    private readonly LayerNorm ln_1;
    private readonly Gpt2Attention attn;
    private readonly LayerNorm ln_2;
    private readonly Gpt2Mlp mlp;
#pragma warning restore IDE1006

    public Gpt2Block(Gpt2Config config, int layer, Device? weights) : base("GPT2Block")
    {
        ln_1 = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon);
        attn = new Gpt2Attention(config, layer, weights);
        ln_2 = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon);
        mlp = new Gpt2Mlp(config, weights);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor blocked)
    {
        using var scope = torch.NewDisposeScope();
        var x = hidden + attn.Forward(ln_1.forward(hidden), blocked);
        return (x + mlp.forward(ln_2.forward(x))).MoveToOuterDisposeScope();
    }
}

internal sealed class Gpt2Attention : nn.Module
{
#pragma warning disable IDE1006
    private nn.Module<Tensor, Tensor> c_attn;
    private nn.Module<Tensor, Tensor> c_proj;
    private readonly Dropout attn_dropout;
    private readonly Dropout resid_dropout;
#pragma warning restore IDE1006
    private readonly int _heads;
    private readonly int _headDim;
    private readonly double _scale;

    public Gpt2Attention(Gpt2Config config, int layer, Device? weights) : base("GPT2Attention")
    {
        _heads = config.NHead;
        _headDim = config.HeadDimension;
        _scale = (config.ScaleAttnWeights ? 1.0 / Math.Sqrt(_headDim) : 1.0) / (config.ScaleAttnByInverseLayerIdx ? layer + 1 : 1);
        c_attn = nn.Linear(config.NEmbd, 3 * config.NEmbd, device: weights);
        c_proj = nn.Linear(config.NEmbd, config.NEmbd, device: weights);
        attn_dropout = nn.Dropout(config.AttnPdrop);
        resid_dropout = nn.Dropout(config.ResidPdrop);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor blocked)
    {
        using var scope = torch.NewDisposeScope();
        long batch = hidden.shape[0], tokens = hidden.shape[1], width = hidden.shape[2];
        var qkv = c_attn.forward(hidden).split(width, -1);
        Tensor Heads(Tensor x) => x.view(batch, tokens, _heads, _headDim).transpose(1, 2);
        var (q, k, v) = (Heads(qkv[0]), Heads(qkv[1]), Heads(qkv[2]));
        var scores = torch.matmul(q, k.transpose(-1, -2)).mul_(_scale);
        scores = scores.masked_fill(blocked, float.MinValue);
        var weights = attn_dropout.forward(torch.nn.functional.softmax(scores, -1).to(v.dtype));
        var attended = torch.matmul(weights, v).transpose(1, 2).contiguous().view(batch, tokens, width);
        return resid_dropout.forward(c_proj.forward(attended)).MoveToOuterDisposeScope();
    }
}

internal sealed class Gpt2Mlp : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private nn.Module<Tensor, Tensor> c_fc;
    private nn.Module<Tensor, Tensor> c_proj;
    private readonly Dropout dropout;
#pragma warning restore IDE1006
    private readonly string _activation;

    public Gpt2Mlp(Gpt2Config config, Device? weights) : base("GPT2MLP")
    {
        c_fc = nn.Linear(config.NEmbd, config.Inner, device: weights);
        c_proj = nn.Linear(config.Inner, config.NEmbd, device: weights);
        dropout = nn.Dropout(config.ResidPdrop);
        _activation = config.ActivationFunction;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var inner = c_fc.forward(x);
        var activated = _activation switch
        {
            "relu" => torch.nn.functional.relu(inner),
            "gelu" => torch.nn.functional.gelu(inner),
            _ => NewGelu(inner),
        };
        return dropout.forward(c_proj.forward(activated)).MoveToOuterDisposeScope();
    }

    /// <summary>gelu_new (the tanh approximation GPT-2 was trained with): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    private static Tensor NewGelu(Tensor x) =>
        // Out of place: autograd keeps tanh's output for its backward.
        x.mul(0.5).mul(torch.tanh(x.add(x.pow(3).mul(0.044715)).mul(Math.Sqrt(2.0 / Math.PI))).add(1.0));
}
