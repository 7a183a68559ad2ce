using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Data.Classification;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models.HuggingFace;
using Orchestrator.Trainer.Peft;
using Orchestrator.Trainer.Safetensors;
using Orchestrator.Trainer.Tests.Training;
using Orchestrator.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Orchestrator.Trainer.Tests.Models.HuggingFace;

public sealed class EncoderClassifierTests : IDisposable
{
    private readonly TestWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Theory]
    [InlineData(EncoderFamily.Bert, EncoderPooling.Cls)]
    [InlineData(EncoderFamily.DistilBert, EncoderPooling.Cls)]
    [InlineData(EncoderFamily.Roberta, EncoderPooling.Cls)]
    [InlineData(EncoderFamily.Bert, EncoderPooling.Mean)]
    [InlineData(EncoderFamily.DistilBert, EncoderPooling.Mean)]
    [InlineData(EncoderFamily.Roberta, EncoderPooling.Mean)]
    public void Padding_never_changes_the_logits(EncoderFamily family, EncoderPooling pooling)
    {
        using var model = EncoderClassifier.Create(TinyEncoders.Config(family) with { Pooling = pooling }, numLabels: 3, seed: 5);
        model.eval();
        long pad = model.Config.PadTokenId;
        long[] sentence = [2, 7, 9, 11, 3], longer = [2, 6, 8, 10, 12, 14, 9, 7, 11, 3];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var alone = model.forward(Stack([sentence], [sentence.Length]));
        var padded = model.forward(Stack([sentence, longer], [sentence.Length, longer.Length], length: 16, pad));
        var bareIds = model.forward(tensor(sentence.Concat(Enumerable.Repeat(pad, 11)).ToArray(), [1, 16], dtype: ScalarType.Int64));

        Assert.Equal([1L, 3L], alone.shape);
        Assert.True(alone[0].allclose(padded[0], rtol: 0, atol: 1e-5), $"max difference {(alone[0] - padded[0]).abs().max().item<float>()}");
        Assert.True(alone[0].allclose(bareIds[0], rtol: 0, atol: 1e-5)); // [B, T] ids: the mask is ids ≠ pad
        Assert.False(alone[0].allclose(padded[1], rtol: 0, atol: 1e-5)); // a different sentence does give different logits
        var tooLong = model.Config.MaxSequenceLength + 1;
        Assert.Throws<ArgumentException>(() => model.forward(Stack([sentence], [sentence.Length], length: tooLong, pad)));
    }

    /// <summary>[B, 2, T]: each row's ids padded to <paramref name="length"/>, then its mask.</summary>
    private static Tensor Stack(long[][] rows, int[] lengths, int? length = null, long pad = 0)
    {
        var t = length ?? lengths.Max();
        var flat = new long[rows.Length * 2 * t];
        for (var r = 0; r < rows.Length; r++)
        {
            for (var i = 0; i < t; i++)
            {
                flat[(r * 2) * t + i] = i < lengths[r] ? rows[r][i] : pad;
                flat[(r * 2 + 1) * t + i] = i < lengths[r] ? 1 : 0;
            }
        }
        return tensor(flat, [rows.Length, 2, t], dtype: ScalarType.Int64);
    }

    [Theory]
    [InlineData(EncoderFamily.Bert, "bert.encoder.layer.0.attention.self.query", "classifier.weight")]
    [InlineData(EncoderFamily.DistilBert, "distilbert.transformer.layer.0.attention.q_lin", "pre_classifier.weight")]
    [InlineData(EncoderFamily.Roberta, "roberta.encoder.layer.0.attention.self.query", "classifier.out_proj.weight")]
    public void Module_and_tensor_names_are_transformers(EncoderFamily family, string queryPath, string headWeight)
    {
        using var model = EncoderClassifier.Create(TinyEncoders.Config(family), numLabels: 2, seed: 1);
        Assert.Contains(queryPath, LoraInjector.LinearModulePaths(model));
        Assert.Contains(headWeight, model.state_dict().Keys);
        // The head trains in full (modules_to_save), so it is never a LoRA target, not even of all-linear.
        Assert.DoesNotContain(LoraInjector.LinearModulePaths(model), p => p.StartsWith("classifier", StringComparison.Ordinal) || p == "pre_classifier");
    }

    [Fact]
    public void A_sharded_checkpoint_loads_as_its_single_file_twin()
    {
        var single = TinyEncoders.Write(_workspace.Sub("single"), EncoderFamily.Bert, seed: 3, withHead: true);
        var sharded = _workspace.Sub("sharded");
        Directory.CreateDirectory(sharded);
        File.Copy(Path.Combine(single, EncoderConfig.FileName), Path.Combine(sharded, EncoderConfig.FileName));
        var (tensors, _) = SafetensorsFile.ReadAll(Path.Combine(single, EncoderClassifier.WeightsFileName));
        try
        {
            var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
            var map = names.Select((name, i) => (name, file: i < names.Count / 2 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors"))
                .ToDictionary(p => p.name, p => p.file);
            foreach (var file in map.Values.Distinct())
                SafetensorsFile.Write(Path.Combine(sharded, file), map.Where(kv => kv.Value == file).ToDictionary(kv => kv.Key, kv => tensors[kv.Key]));
            ShardIndex.Write(Path.Combine(sharded, EncoderClassifier.ShardIndexFileName), map, tensors.Values.Sum(t => t.NumberOfElements * 4));
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }

        using var fromSingle = EncoderClassifier.FromPretrained(single, numLabels: 2, seed: 0);
        using var fromShards = EncoderClassifier.FromPretrained(sharded, numLabels: 2, seed: 99); // the head comes from the checkpoint, not the seed
        AssertSameWeights(fromSingle, fromShards);
        File.Delete(Path.Combine(sharded, "model-00002-of-00002.safetensors"));
        Assert.Throws<FileNotFoundException>(() => EncoderClassifier.FromPretrained(sharded, numLabels: 2, seed: 0));
    }

    [Fact]
    public void An_export_without_the_bert_prefix_or_a_head_loads_its_backbone_and_draws_the_head_from_the_seed()
    {
        var prefixed = TinyEncoders.Write(_workspace.Sub("prefixed"), EncoderFamily.Bert, seed: 4);
        var bare = TinyEncoders.Write(_workspace.Sub("bare"), EncoderFamily.Bert, seed: 4, bareNames: true);
        Assert.Contains("embeddings.word_embeddings.weight", SafetensorsFile.ReadHeader(Path.Combine(bare, EncoderClassifier.WeightsFileName)).Tensors.Select(t => t.Name));

        using var a = EncoderClassifier.FromPretrained(prefixed, numLabels: 3, seed: 10);
        using var b = EncoderClassifier.FromPretrained(bare, numLabels: 3, seed: 10);
        using var c = EncoderClassifier.FromPretrained(bare, numLabels: 3, seed: 11);
        AssertSameWeights(a, b);
        var headA = a.state_dict()["classifier.weight"];
        var headC = c.state_dict()["classifier.weight"];
        Assert.False(headA.allclose(headC)); // another seed, another head
        Assert.Equal(a.Config.InitializerRange, headA.std().item<float>(), a.Config.InitializerRange / 3); // N(0, initializer_range)
        Assert.Equal(0, c.state_dict()["classifier.bias"].abs().sum().item<float>());
        Assert.Equal(["classifier"], a.ModulesToSave);
    }

    [Fact]
    public void An_export_without_a_pooler_draws_it_from_the_seed_and_trains_and_saves_it_with_the_head()
    {
        var folder = TinyEncoders.Write(_workspace.Sub("no-pooler"), EncoderFamily.Bert, seed: 4, bareNames: true);
        var path = Path.Combine(folder, EncoderClassifier.WeightsFileName);
        var (tensors, _) = SafetensorsFile.ReadAll(path);
        try
        {
            SafetensorsFile.Write(path, tensors.Where(kv => !kv.Key.StartsWith("pooler.", StringComparison.Ordinal)).ToDictionary());
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }

        using var model = EncoderClassifier.FromPretrained(folder, numLabels: 2, seed: 8);
        Assert.Equal(["pooler", "classifier"], model.ModulesToSave);
        var injection = LoraInjector.Inject(model, new TrainingConfig { TargetModules = ["all-linear"] }, seed: 0);
        Assert.DoesNotContain(injection.Modules, m => m.Path.Contains("pooler", StringComparison.Ordinal));
        Assert.True(model.named_parameters().Single(p => p.name == "bert.pooler.dense.weight").parameter.requires_grad);
        var weights = LoraWeights.Get(model);
        try
        {
            Assert.Contains("base_model.model.bert.pooler.dense.weight", weights.Keys);
            Assert.Contains("base_model.model.classifier.weight", weights.Keys);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    [Fact]
    public void A_checkpoint_that_does_not_fit_its_config_names_what_is_wrong()
    {
        var folder = TinyEncoders.Write(_workspace.Sub("bad"), EncoderFamily.DistilBert, seed: 4, withHead: true, numLabels: 2);
        var error = Assert.Throws<InvalidDataException>(() => EncoderClassifier.FromPretrained(folder, numLabels: 5, seed: 0));
        Assert.Contains("shape mismatch: classifier.bias (checkpoint [2], model [5])", error.Message, StringComparison.Ordinal);
    }

    private static void AssertSameWeights(nn.Module expected, nn.Module actual)
    {
        var left = expected.state_dict();
        var right = actual.state_dict();
        Assert.Equal(left.Keys.Order(), right.Keys.Order());
        foreach (var (name, tensor) in left) Assert.True(tensor.eq(right[name]).all().item<bool>(), name);
    }
}
