using System.Text.Json;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trials.Packing;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trials.Models.Named;

namespace Orchestrator.Trainer.Tests.Lora.Variants;

public sealed class VariantOptionsTests
{
    [Fact]
    public void Variant_options_are_left_out_of_the_JSON_at_their_defaults_so_trial_ids_do_not_change()
    {
        var json = JsonSerializer.Serialize(new TrainingConfig());
        Assert.DoesNotContain("use_dora", json);
        Assert.DoesNotContain("loraplus_lr_ratio", json);
        var varied = JsonSerializer.Serialize(new TrainingConfig { UseDora = true, LoraPlusLrRatio = 16, Init = LoraInitMethod.PissaNiter(4) });
        Assert.Contains("\"use_dora\":true", varied);
        Assert.Contains("\"loraplus_lr_ratio\":16", varied);
        Assert.Contains("\"init\":\"pissa_niter_4\"", varied);
        Assert.Empty(new TrainingConfig().Problems());
    }

    [Theory]
    [InlineData("pissa")]
    [InlineData("pissa_niter_4")]
    [InlineData("olora")]
    [InlineData("gaussian")]
    [InlineData("kaiming")]
    public void Init_accepts_PEFTs_methods(string init)
    {
        Assert.Empty(new TrainingConfig { Init = LoraInitMethod.Parse(init) }.Problems());
        Assert.Equal(init, LoraInitMethod.Parse(init).ToString());
    }

    [Theory]
    [InlineData("pissa_niter_0")]
    [InlineData("pissa_niter_")]
    [InlineData("loftq")]
    [InlineData("pissa_niter_04")] // one spelling per value: the JSON keeps the bytes it was given
    public void Init_refuses_other_values_naming_what_is_allowed(string init)
    {
        Assert.False(LoraInitMethod.TryParse(init, out _));
        var json = JsonSerializer.SerializeToNode(new TrainingConfig())!.AsObject();
        json["init"] = init;
        Assert.Throws<JsonException>(() => json.Deserialize<TrainingConfig>());
        var problem = Assert.Single(TrainingOptions.OptionProblems(json));
        Assert.Equal("init", problem.Key);
        Assert.Contains($"'{init}'", problem.Message);
        Assert.Contains("pissa_niter_K", problem.Message);
    }

    [Fact]
    public void A_negative_LoRA_plus_ratio_is_refused()
    {
        var problem = Assert.Single(new TrainingConfig { LoraPlusLrRatio = -1 }.Problems());
        Assert.Equal("loraplus_lr_ratio", problem.Key);
    }

    [Fact]
    public void PiSSA_with_rsLoRA_and_a_rank_pattern_is_refused_as_PEFT_cannot_save_it_against_the_base()
    {
        var problem = Assert.Single(new TrainingConfig { Init = LoraInitMethod.Pissa, UseRslora = true, RankPattern = new Dictionary<string, int> { ["l1"] = 4 } }.Problems());
        Assert.Equal("init", problem.Key);
    }

    [Fact]
    public void PEFTs_spellings_name_the_options()
    {
        Assert.True(TrainingOptions.TryGet("use_dora", out var dora) && dora.Kind == OptionKind.Bool && dora.LoraOnly);
        Assert.True(TrainingOptions.TryGet("loraplus_lr_ratio", out var ratio) && ratio.Kind == OptionKind.Number && ratio.LoraOnly);
        Assert.Equal("init", TrainingOptions.Aliases["init_lora_weights"]);
    }

    [Theory]
    [InlineData(true, "pissa", 0.0, "use_dora")]
    [InlineData(false, "pissa", 0.0, "init 'pissa'")]
    [InlineData(false, "olora", 0.0, "init 'olora'")]
    [InlineData(false, "kaiming", 16.0, "loraplus_lr_ratio 16")]
    public void LoRA_variants_train_alone_and_say_why(bool useDora, string init, double ratio, string reason)
    {
        var config = new TrainingConfig { Model = "mlp", UseDora = useDora, Init = LoraInitMethod.Parse(init), LoraPlusLrRatio = ratio };
        Assert.Contains(reason, PackCompatibility.WhyNotPackable(config));
        Assert.Null(PackCompatibility.Key(config, new BaseModelSpec()));
        Assert.Null(PackCompatibility.WhyNotPackable(config with { UseDora = false, Init = LoraInitMethod.Gaussian, LoraPlusLrRatio = 0 }));
    }

    [Fact]
    public void Lora_params_counts_DoRAs_magnitudes_one_per_output_feature_of_each_adapted_module()
    {
        var plain = ParameterReport.Compute("linear:512x256", 8, []);
        var dora = ParameterReport.Compute("linear:512x256", 8, [], useDora: true);
        Assert.Equal(8 * (512 + 256), plain.LoraParameters);
        Assert.Equal(8 * (512 + 256) + 256, dora.LoraParameters);
        Assert.Equal(plain.TrainableParameters + 256, dora.TrainableParameters);
        Assert.True(dora.UseDora);

        // minilm-l6 at r=8 on query,value: 73,728 LoRA parameters, plus 6 layers × 2 modules × 384 magnitudes.
        var encoder = NamedEncoders.Find("minilm-l6")!;
        var report = ParameterReport.ForEncoder("minilm-l6", encoder.Config, 8, ["query", "value"], useDora: true);
        Assert.Equal(73_728 + 4_608, report.LoraParameters);
    }
}
