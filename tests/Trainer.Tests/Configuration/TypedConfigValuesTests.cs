using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Models.HuggingFace;

namespace Orchestrator.Trainer.Tests.Configuration;

/// <summary>
/// The closed sets of <see cref="TrainingConfig"/> are typed values whose JSON is the words configs were written with
/// before: trial ids, config hashes and checkpoint hashes hash these bytes.
/// </summary>
public sealed class TypedConfigValuesTests
{
    public static TheoryData<string, string[]> Words => new()
    {
        { "adapter", ["lora", "full", "base"] },
        { "bias", ["none", "all", "lora_only"] },
        { "schedule", ["constant", "linear", "cosine"] },
        { "pooling", ["cls", "mean"] },
        { "base_dtype", ["fp32", "bf16", "fp16"] },
        { "quantize", ["none", "nf4", "int8"] },
    };

    [Fact]
    public void The_default_config_keeps_its_json_bytes() =>
        Assert.Equal(
            """{"model":"mlp","dataset":"mnist","adapter":"lora","rank":8,"alpha":8,"target_modules":[],"target_modules_regex":null,"layers_to_transform":null,"rank_pattern":null,"alpha_pattern":null,"dropout":0,"bias":"none","use_rslora":false,"init":"kaiming","lr":0.001,"weight_decay":0.01,"schedule":"constant","warmup_steps":0,"grad_clip":1,"batch_size":64,"epochs":1,"max_steps":0,"eval_every":0,"checkpoint_every":0,"seed":0,"seq_len":64,"tokenizer":null,"max_train_samples":0,"max_eval_samples":0}""",
            JsonSerializer.Serialize(new TrainingConfig()));

    [Theory]
    [MemberData(nameof(Words))]
    public void Each_word_of_a_closed_set_reads_into_the_record_and_writes_back_the_same_bytes(string key, string[] words)
    {
        Assert.Equal(words, TrainingOptions.Get(key).Allowed); // the option table lists the enum's words, in this order
        foreach (var word in words)
        {
            var json = JsonSerializer.SerializeToNode(new TrainingConfig())!.AsObject();
            json[key] = word;
            var config = json.Deserialize<TrainingConfig>()!;
            Assert.Equal(json.ToJsonString(), JsonSerializer.Serialize(config));
        }
    }

    [Theory]
    [InlineData("kaiming", LoraInitKind.Kaiming, null, false)]
    [InlineData("gaussian", LoraInitKind.Gaussian, null, false)]
    [InlineData("pissa", LoraInitKind.Pissa, null, true)]
    [InlineData("pissa_niter_1", LoraInitKind.Pissa, 1, true)]
    [InlineData("pissa_niter_16", LoraInitKind.Pissa, 16, true)]
    [InlineData("olora", LoraInitKind.Olora, null, true)]
    public void Init_is_a_method_and_pissa_niter_K_its_subspace_iterations(string word, LoraInitKind kind, int? iterations, bool changesBase)
    {
        var init = LoraInitMethod.Parse(word);
        Assert.Equal((kind, iterations, changesBase), (init.Kind, init.SubspaceIterations, init.ChangesBase));
        Assert.Equal(word, init.ToString());
        var json = JsonSerializer.Serialize(new TrainingConfig { Init = init });
        Assert.Contains($"\"init\":\"{word}\"", json, StringComparison.Ordinal);
        Assert.Equal(init, JsonSerializer.Deserialize<TrainingConfig>(json)!.Init);
    }

    [Fact]
    public void The_default_init_is_kaiming() => Assert.Equal(LoraInitMethod.Kaiming, default);

    [Fact]
    public void A_camel_case_enum_converter_in_the_callers_options_does_not_change_the_config_json()
    {
        // The CLI's --json and the dashboard's API serialise with JsonStringEnumConverter(CamelCase): lora_only must stay lora_only.
        var options = new JsonSerializerOptions { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } };
        var config = new TrainingConfig
        {
            Adapter = AdapterKind.Full, Bias = BiasMode.LoraOnly, Schedule = ScheduleKind.Cosine, Pooling = EncoderPooling.Mean,
            BaseDtype = BaseDtype.Bf16, Quantize = QuantizeMode.Nf4, Init = LoraInitMethod.PissaNiter(4),
        };
        var json = JsonSerializer.Serialize(config, options);
        Assert.Equal(JsonSerializer.Serialize(config), json);
        Assert.Contains("\"bias\":\"lora_only\"", json, StringComparison.Ordinal);
        Assert.Equal(json, JsonSerializer.Serialize(JsonSerializer.Deserialize<TrainingConfig>(json, options)));
    }

    [Theory]
    [InlineData("bias", "\"Lora_Only\"")]
    [InlineData("bias", "\"LoraOnly\"")]
    [InlineData("adapter", "1")]
    [InlineData("schedule", "\"\"")]
    [InlineData("base_dtype", "\"BF16\"")]
    [InlineData("init", "\"pissa_niter_04\"")]
    public void Other_spellings_and_numbers_are_not_words_of_a_set(string key, string value)
    {
        var json = JsonSerializer.SerializeToNode(new TrainingConfig())!.AsObject();
        json[key] = JsonNode.Parse(value);
        Assert.Throws<JsonException>(() => json.Deserialize<TrainingConfig>());
        Assert.NotEmpty(TrainingOptions.OptionProblems(json));
    }

    [Fact]
    public void Defaults_are_shown_in_their_words() =>
        Assert.Equal(["lora", "none", "kaiming", "constant"], new[] { "adapter", "bias", "init", "schedule" }.Select(k => TrainingOptions.Get(k).DefaultText));
}
