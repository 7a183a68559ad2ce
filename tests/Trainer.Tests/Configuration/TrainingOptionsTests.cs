using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;

namespace Orchestrator.Trainer.Tests.Configuration;

/// <summary>The one rule table of <see cref="TrainingConfig"/> and the validation the trainer runs from it.</summary>
public sealed class TrainingOptionsTests
{
    private static TrainingConfig With(string key, JsonNode? value)
    {
        var json = JsonSerializer.SerializeToNode(new TrainingConfig())!.AsObject();
        json[key] = value;
        return json.Deserialize<TrainingConfig>()!;
    }

    [Fact]
    public void Every_TrainingConfig_key_has_exactly_one_rule()
    {
        var properties = typeof(TrainingConfig).GetProperties(BindingFlags.Public | BindingFlags.Instance);
        var keys = properties.Select(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name).OfType<string>();
        Assert.Equal(keys.Order(), TrainingOptions.All.Select(o => o.Key).Order());
        // A property without a key is the typed view of one left out at its default (gradient_accumulation_steps).
        Assert.All(properties.Where(p => p.GetCustomAttribute<JsonPropertyNameAttribute>() is null && p.Name != "EqualityContract"),
            p => Assert.NotNull(p.GetCustomAttribute<JsonIgnoreAttribute>()));
    }

    [Fact]
    public void The_default_config_breaks_no_rule() => Assert.Empty(new TrainingConfig().Problems());

    [Fact]
    public void Alpha_defaults_to_8_as_in_peft_and_says_so()
    {
        var alpha = TrainingOptions.Get("alpha");
        Assert.Equal(8.0, alpha.Default);
        Assert.Equal("8", alpha.DefaultText);
        Assert.Contains("PEFT's lora_alpha, and its default", alpha.Help);
    }

    public static TheoryData<string> BoundedKeys() =>
        [.. TrainingOptions.All.Where(o => o.Kind is OptionKind.Int or OptionKind.IntList || o is { Kind: OptionKind.Number, MinNumber: not null }).Select(o => o.Key)];

    [Theory]
    [MemberData(nameof(BoundedKeys))]
    public void A_value_just_below_a_rules_minimum_is_refused_under_its_key(string key)
    {
        var rule = TrainingOptions.Get(key);
        JsonNode below = rule.Kind switch
        {
            OptionKind.Int => JsonValue.Create(rule.MinInt - 1),
            OptionKind.IntList => new JsonArray(JsonValue.Create(rule.MinInt - 1)),
            _ => JsonValue.Create(rule.MinExclusive ? rule.MinNumber!.Value : rule.MinNumber!.Value - 1),
        };
        var e = Assert.Throws<InvalidTrainingConfigException>(() => With(key, below).Validate());
        var problem = Assert.Single(e.Problems, p => p.Key == key);
        Assert.StartsWith($"{key} must be ", problem.Message);
    }

    [Theory]
    [InlineData("adapter", "qlora", "one of lora, full, base")]
    [InlineData("bias", "some", "one of none, all, lora_only")]
    [InlineData("init", "loftq", "one of kaiming, gaussian, pissa, pissa_niter_K (K ≥ 1 subspace iterations) or olora")]
    [InlineData("schedule", "step", "one of constant, linear, cosine")]
    [InlineData("target_modules_regex", "(", "a valid regular expression")]
    public void A_text_value_outside_its_rule_is_refused_with_the_allowed_values(string key, string value, string need)
    {
        // Words are checked in the JSON form a sweep or `train` gives them, before the record is typed ...
        var json = JsonSerializer.SerializeToNode(new TrainingConfig())!.AsObject();
        json[key] = value;
        Assert.Equal($"{key} must be {need}, got '{value}'", Assert.Single(TrainingOptions.OptionProblems(json)).Message);
        // ... and the typed record cannot hold a word outside its set.
        if (key == "target_modules_regex") Assert.Throws<InvalidTrainingConfigException>(() => With(key, value).Validate());
        else Assert.Throws<JsonException>(() => With(key, value));
    }

    [Fact]
    public void Validate_lists_every_broken_rule_at_once()
    {
        var config = new TrainingConfig { Rank = 0, Dropout = 1, WarmupSteps = -1, Epochs = 0 };
        var e = Assert.Throws<InvalidTrainingConfigException>(() => config.Validate());
        Assert.Equal(["rank", "dropout", "warmup_steps", "epochs"], e.Problems.Select(p => p.Key));
    }

    [Fact]
    public void Invalid_config_is_an_argument_exception_so_the_silo_does_not_retry_it() =>
        Assert.IsAssignableFrom<ArgumentException>(new InvalidTrainingConfigException([new("rank", "rank must be an integer ≥ 1, got 0")]));

    [Fact]
    public void Epochs_0_without_max_steps_trains_nothing_and_is_refused()
    {
        Assert.Equal("epochs", Assert.Single(new TrainingConfig { Epochs = 0 }.Problems()).Key);
        Assert.Empty(new TrainingConfig { Epochs = 0, MaxSteps = 5 }.Problems());
    }

    [Fact]
    public void An_unknown_target_of_a_built_in_model_is_refused_with_its_linear_modules()
    {
        var problem = Assert.Single(new TrainingConfig { Model = BuiltInModels.Mlp, TargetModules = ["l1", "fc1"] }.Problems());
        Assert.Equal("unknown target module 'fc1' for model mlp; its linear modules are l1, l2, l3 (or all-linear)", problem.Message);
    }

    [Fact]
    public void Targets_are_not_checked_for_trials_that_train_no_adapter() =>
        Assert.Empty(new TrainingConfig { Adapter = AdapterKind.Full, TargetModules = ["fc1"] }.Problems());

    [Theory]
    [InlineData(BuiltInModels.Mlp, new[] { "l1", "l2", "l3" })]
    [InlineData(BuiltInModels.TransformerBlock, new[] { "q_proj", "v_proj" })]
    [InlineData(BuiltInModels.Llama, new[] { "q_proj", "v_proj" })]
    [InlineData("linear:16x8", new[] { "linear" })]
    public void Without_target_modules_a_model_gets_its_documented_default(string model, string[] expected)
    {
        Assert.Equal(expected, TrainingOptions.DefaultTargetModules(model));
        if (BuiltInModels.Names.Contains(model))
            Assert.Contains($"{model} → {string.Join(", ", expected)};", TrainingOptions.Get("target_modules").Help);
    }

    [Theory]
    [InlineData(BuiltInModels.Mlp, new[] { "l1", "l2", "l3" })]
    [InlineData(BuiltInModels.TransformerBlock, new[] { "q_proj", "v_proj" })]
    [InlineData(BuiltInModels.Llama, new[] { "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj" })]
    public void Injection_without_target_modules_adapts_the_default_modules(string model, string[] expected)
    {
        using var built = ModelCatalog.Create(model, seed: 1);
        var injection = LoraInjector.Inject(built, new TrainingConfig { Model = model, Rank = 2 }, seed: 1);
        Assert.Equal(expected, injection.Modules.Select(m => m.Path));
    }

    [Fact]
    public void A_hugging_face_folder_takes_pefts_default_of_its_model_type_and_an_unknown_type_has_none()
    {
        var folder = Path.Combine(Path.GetTempPath(), "hf-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, "config.json"), """{ "model_type": "mistral" }""");
            Assert.Equal(["q_proj", "v_proj"], TrainingOptions.DefaultTargetModules(folder));

            File.WriteAllText(Path.Combine(folder, "config.json"), """{ "model_type": "resnet" }""");
            Assert.Null(TrainingOptions.DefaultTargetModules(folder));
            var problems = new TrainingConfig { Model = folder }.Problems();
            Assert.Contains(problems, p => p.Key == "target_modules" && p.Message.Contains("has no default target modules", StringComparison.Ordinal));
            // And a model_type no loader reads is refused as the model, naming the supported ones (issue 24).
            Assert.Contains(problems, p => p.Key == "model" && p.Message.Contains("model_type 'resnet' is not a supported decoder; supported: llama, mistral, qwen2, qwen3, gpt2", StringComparison.Ordinal));
            Assert.Equal(2, problems.Count);
            Assert.Throws<LoraTargetException>(() => LoraInjector.SelectTargets(["encoder.fc"], new TrainingConfig { Model = folder }));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
