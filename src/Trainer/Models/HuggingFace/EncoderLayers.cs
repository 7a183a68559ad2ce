using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Models.HuggingFace;

// The building blocks of transformers' BertModel, RobertaModel and DistilBertModel (eager attention), with their
// module names, so state_dict keys are the checkpoint's and LoRA targets are what PEFT users type.
#pragma warning disable IDE1006 // field names are the HF module names

/// <summary>A base encoder: token ids and attention mask (1 = token, 0 = padding), both [B, T] int64, to hidden states [B, T, H].</summary>
internal abstract class EncoderBackbone(string name) : nn.Module(name)
{
    public abstract Tensor Forward(Tensor inputIds, Tensor attentionMask);

    /// <summary>An additive mask [B, 1, 1, T]: 0 where a key is a token, float32's minimum where it is padding (as transformers).</summary>
    protected static Tensor AdditiveMask(Tensor attentionMask, ScalarType dtype) =>
        attentionMask.to(dtype).neg().add_(1.0).mul_(float.MinValue).unsqueeze(1).unsqueeze(1);

    internal static Tensor Activate(string activation, Tensor x) => activation switch
    {
        "gelu" => nn.functional.gelu(x), // exact (erf), as transformers' "gelu"
        "relu" => nn.functional.relu(x),
        // gelu_new / gelu_pytorch_tanh: the tanh approximation.
        _ => x.mul(0.5).mul_(x.pow(3).mul_(0.044715).add_(x).mul_(Math.Sqrt(2.0 / Math.PI)).tanh_().add_(1.0)),
    };
}

/// <summary>BertModel / RobertaModel: embeddings, encoder, and (BERT only) the pooler.</summary>
internal sealed class BertBackbone : EncoderBackbone
{
    private readonly BertEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly BertPooler? pooler;

    public BertBackbone(EncoderConfig config, bool addPooler) : base(config.Family == EncoderFamily.Roberta ? "RobertaModel" : "BertModel")
    {
        embeddings = new BertEmbeddings(config);
        encoder = new BertEncoder(config);
        pooler = addPooler ? new BertPooler(config) : null;
        RegisterComponents();
    }

    public override Tensor Forward(Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var hidden = embeddings.Forward(inputIds);
        return encoder.Forward(hidden, AdditiveMask(attentionMask, hidden.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>BertPooler: dense + tanh over the first ([CLS]) token.</summary>
    public Tensor Pool(Tensor hidden) => pooler?.forward(hidden) ?? throw new InvalidOperationException("This encoder has no pooler.");
}

internal sealed class BertEmbeddings : nn.Module
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly GeneratorDropout dropout;
    private readonly bool _roberta;
    private readonly long _padId;

    public BertEmbeddings(EncoderConfig config) : base("BertEmbeddings")
    {
        _roberta = config.Family == EncoderFamily.Roberta;
        _padId = config.PadTokenId;
        word_embeddings = nn.Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId);
        position_embeddings = _roberta
            ? nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize, padding_idx: config.PadTokenId)
            : nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        token_type_embeddings = nn.Embedding(config.TypeVocabSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = new GeneratorDropout(config.HiddenDropout);
        RegisterComponents();
    }

    public Tensor Forward(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        var tokens = inputIds.shape[1];
        // RoBERTa numbers tokens from padding_idx + 1 and gives padding the position padding_idx
        // (create_position_ids_from_input_ids); BERT counts 0, 1, 2, ….
        var positions = _roberta
            ? inputIds.ne(_padId).to(ScalarType.Int64).cumsum(1).mul(inputIds.ne(_padId).to(ScalarType.Int64)).add_(_padId)
            : arange(tokens, dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0);
        var tokenTypes = zeros_like(inputIds);
        var x = word_embeddings.forward(inputIds) + token_type_embeddings.forward(tokenTypes) + position_embeddings.forward(positions);
        return dropout.forward(LayerNorm.forward(x)).MoveToOuterDisposeScope();
    }
}

internal sealed class BertEncoder : nn.Module
{
    private readonly ModuleList<BertLayer> layer;

    public BertEncoder(EncoderConfig config) : base("BertEncoder")
    {
        layer = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config)).ToArray());
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor mask)
    {
        using var scope = NewDisposeScope();
        foreach (var block in layer) hidden = block.Forward(hidden, mask);
        return hidden.MoveToOuterDisposeScope();
    }
}

internal sealed class BertLayer : nn.Module
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertOutput output;

    public BertLayer(EncoderConfig config) : base("BertLayer")
    {
        attention = new BertAttention(config);
        intermediate = new BertIntermediate(config);
        output = new BertOutput(config);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var attended = attention.Forward(hidden, mask);
        return output.Forward(intermediate.forward(attended), attended).MoveToOuterDisposeScope();
    }
}

internal sealed class BertAttention : nn.Module
{
    private readonly BertSelfAttention self;
    private readonly BertSelfOutput output;

    public BertAttention(EncoderConfig config) : base("BertAttention")
    {
        self = new BertSelfAttention(config);
        output = new BertSelfOutput(config);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor mask)
    {
        using var scope = NewDisposeScope();
        return output.Forward(self.Forward(hidden, mask), hidden).MoveToOuterDisposeScope();
    }
}

internal sealed class BertSelfAttention : nn.Module
{
    private nn.Module<Tensor, Tensor> query;
    private nn.Module<Tensor, Tensor> key;
    private nn.Module<Tensor, Tensor> value;
    private readonly GeneratorDropout dropout;
    private readonly int _heads;
    private readonly int _headDim;

    public BertSelfAttention(EncoderConfig config) : base("BertSelfAttention")
    {
        _heads = config.NumAttentionHeads;
        _headDim = config.HeadDim;
        query = nn.Linear(config.HiddenSize, config.HiddenSize);
        key = nn.Linear(config.HiddenSize, config.HiddenSize);
        value = nn.Linear(config.HiddenSize, config.HiddenSize);
        dropout = new GeneratorDropout(config.AttentionDropout);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor mask)
    {
        using var scope = NewDisposeScope();
        return Attention.Scaled(query.forward(hidden), key.forward(hidden), value.forward(hidden), mask, _heads, _headDim, dropout)
            .MoveToOuterDisposeScope();
    }
}

internal static class Attention
{
    /// <summary>softmax(q·kᵀ/√d + mask)·v over heads; q, k, v [B, T, H·D], mask additive [B, 1, 1, T]; returns [B, T, H·D].</summary>
    public static Tensor Scaled(Tensor q, Tensor k, Tensor v, Tensor mask, int heads, int headDim, GeneratorDropout dropout)
    {
        using var scope = NewDisposeScope();
        long batch = q.shape[0], tokens = q.shape[1];
        Tensor Split(Tensor x) => x.view(batch, tokens, heads, headDim).transpose(1, 2);
        var scores = matmul(Split(q), Split(k).transpose(2, 3)).mul_(1.0 / Math.Sqrt(headDim)).add_(mask);
        var weights = dropout.forward(nn.functional.softmax(scores, -1));
        return matmul(weights, Split(v)).transpose(1, 2).contiguous().view(batch, tokens, heads * headDim).MoveToOuterDisposeScope();
    }
}

internal sealed class BertSelfOutput : nn.Module
{
    private nn.Module<Tensor, Tensor> dense;
    private readonly LayerNorm LayerNorm;
    private readonly GeneratorDropout dropout;

    public BertSelfOutput(EncoderConfig config) : base("BertSelfOutput")
    {
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = new GeneratorDropout(config.HiddenDropout);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor residual)
    {
        using var scope = NewDisposeScope();
        return LayerNorm.forward(dropout.forward(dense.forward(hidden)) + residual).MoveToOuterDisposeScope();
    }
}

internal sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    private nn.Module<Tensor, Tensor> dense;
    private readonly string _activation;

    public BertIntermediate(EncoderConfig config) : base("BertIntermediate")
    {
        dense = nn.Linear(config.HiddenSize, config.IntermediateSize);
        _activation = config.HiddenAct;
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return EncoderBackbone.Activate(_activation, dense.forward(hidden)).MoveToOuterDisposeScope();
    }
}

internal sealed class BertOutput : nn.Module
{
    private nn.Module<Tensor, Tensor> dense;
    private readonly LayerNorm LayerNorm;
    private readonly GeneratorDropout dropout;

    public BertOutput(EncoderConfig config) : base("BertOutput")
    {
        dense = nn.Linear(config.IntermediateSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = new GeneratorDropout(config.HiddenDropout);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor residual)
    {
        using var scope = NewDisposeScope();
        return LayerNorm.forward(dropout.forward(dense.forward(hidden)) + residual).MoveToOuterDisposeScope();
    }
}

internal sealed class BertPooler : nn.Module<Tensor, Tensor>
{
    private nn.Module<Tensor, Tensor> dense;

    public BertPooler(EncoderConfig config) : base("BertPooler")
    {
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return dense.forward(hidden.select(1, 0)).tanh_().MoveToOuterDisposeScope();
    }
}

/// <summary>DistilBertModel: embeddings (no token types) and the transformer.</summary>
internal sealed class DistilBertBackbone : EncoderBackbone
{
    private readonly DistilBertEmbeddings embeddings;
    private readonly DistilBertTransformer transformer;

    public DistilBertBackbone(EncoderConfig config) : base("DistilBertModel")
    {
        embeddings = new DistilBertEmbeddings(config);
        transformer = new DistilBertTransformer(config);
        RegisterComponents();
    }

    public override Tensor Forward(Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var hidden = embeddings.Forward(inputIds);
        return transformer.Forward(hidden, AdditiveMask(attentionMask, hidden.dtype)).MoveToOuterDisposeScope();
    }
}

internal sealed class DistilBertEmbeddings : nn.Module
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly GeneratorDropout dropout;

    public DistilBertEmbeddings(EncoderConfig config) : base("Embeddings")
    {
        word_embeddings = nn.Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId);
        position_embeddings = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = new GeneratorDropout(config.HiddenDropout);
        RegisterComponents();
    }

    public Tensor Forward(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        var positions = arange(inputIds.shape[1], dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0);
        var x = word_embeddings.forward(inputIds) + position_embeddings.forward(positions);
        return dropout.forward(LayerNorm.forward(x)).MoveToOuterDisposeScope();
    }
}

internal sealed class DistilBertTransformer : nn.Module
{
    private readonly ModuleList<DistilBertBlock> layer;

    public DistilBertTransformer(EncoderConfig config) : base("Transformer")
    {
        layer = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new DistilBertBlock(config)).ToArray());
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor mask)
    {
        using var scope = NewDisposeScope();
        foreach (var block in layer) hidden = block.Forward(hidden, mask);
        return hidden.MoveToOuterDisposeScope();
    }
}

internal sealed class DistilBertBlock : nn.Module
{
    private readonly DistilBertAttention attention;
    private readonly LayerNorm sa_layer_norm;
    private readonly DistilBertFfn ffn;
    private readonly LayerNorm output_layer_norm;

    public DistilBertBlock(EncoderConfig config) : base("TransformerBlock")
    {
        attention = new DistilBertAttention(config);
        sa_layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        ffn = new DistilBertFfn(config);
        output_layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var attended = sa_layer_norm.forward(attention.Forward(hidden, mask) + hidden);
        return output_layer_norm.forward(ffn.forward(attended) + attended).MoveToOuterDisposeScope();
    }
}

internal sealed class DistilBertAttention : nn.Module
{
    private nn.Module<Tensor, Tensor> q_lin;
    private nn.Module<Tensor, Tensor> k_lin;
    private nn.Module<Tensor, Tensor> v_lin;
    private nn.Module<Tensor, Tensor> out_lin;
    private readonly GeneratorDropout dropout;
    private readonly int _heads;
    private readonly int _headDim;

    public DistilBertAttention(EncoderConfig config) : base("MultiHeadSelfAttention")
    {
        _heads = config.NumAttentionHeads;
        _headDim = config.HeadDim;
        q_lin = nn.Linear(config.HiddenSize, config.HiddenSize);
        k_lin = nn.Linear(config.HiddenSize, config.HiddenSize);
        v_lin = nn.Linear(config.HiddenSize, config.HiddenSize);
        out_lin = nn.Linear(config.HiddenSize, config.HiddenSize);
        dropout = new GeneratorDropout(config.AttentionDropout);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var context = Attention.Scaled(q_lin.forward(hidden), k_lin.forward(hidden), v_lin.forward(hidden), mask, _heads, _headDim, dropout);
        return out_lin.forward(context).MoveToOuterDisposeScope();
    }
}

internal sealed class DistilBertFfn : nn.Module<Tensor, Tensor>
{
    private nn.Module<Tensor, Tensor> lin1;
    private nn.Module<Tensor, Tensor> lin2;
    private readonly GeneratorDropout dropout;
    private readonly string _activation;

    public DistilBertFfn(EncoderConfig config) : base("FFN")
    {
        lin1 = nn.Linear(config.HiddenSize, config.IntermediateSize);
        lin2 = nn.Linear(config.IntermediateSize, config.HiddenSize);
        dropout = new GeneratorDropout(config.HiddenDropout);
        _activation = config.HiddenAct;
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return dropout.forward(lin2.forward(EncoderBackbone.Activate(_activation, lin1.forward(hidden)))).MoveToOuterDisposeScope();
    }
}

/// <summary>RobertaClassificationHead: dropout, dense, tanh, dropout, out_proj over the first (&lt;s&gt;) token.</summary>
internal sealed class RobertaClassificationHead : nn.Module<Tensor, Tensor>
{
    private nn.Module<Tensor, Tensor> dense;
    private readonly GeneratorDropout dropout;
    private nn.Module<Tensor, Tensor> out_proj;

    public RobertaClassificationHead(EncoderConfig config, int numLabels) : base("RobertaClassificationHead")
    {
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        dropout = new GeneratorDropout(config.ClassifierDropout);
        out_proj = nn.Linear(config.HiddenSize, numLabels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var x = dropout.forward(hidden.select(1, 0));
        x = dropout.forward(dense.forward(x).tanh_());
        return out_proj.forward(x).MoveToOuterDisposeScope();
    }
}
#pragma warning restore IDE1006
