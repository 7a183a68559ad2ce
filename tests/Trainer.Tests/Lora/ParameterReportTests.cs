using System.Text.Json;
using Orchestrator.Trials.Configuration;
using Orchestrator.Trainer.Lora;
using Orchestrator.Trainer.Models;

namespace Orchestrator.Trainer.Tests.Lora;

public sealed class ParameterReportTests
{
    [Theory]
    [InlineData(BiasMode.None, 16_384)]
    [InlineData(BiasMode.LoraOnly, 16_896)]
    [InlineData(BiasMode.All, 16_896)]
    public void A_bare_512x512_layer_at_rank16_trains_16384_parameters_or_16896_with_its_bias(BiasMode bias, long expected)
    {
        var report = ParameterReport.Compute("linear:512x512", 16, [], bias);
        Assert.Equal(expected, report.TrainableParameters);
        Assert.Equal(512 * 512 + 512 + 16_384, report.TotalParameters);
    }

    [Fact]
    public void A_bare_4096x4096_layer_at_rank8_trains_65536_parameters()
    {
        Assert.Equal(65_536, ParameterReport.Compute("linear:4096x4096", 8, []).TrainableParameters);
    }

    [Fact]
    public void The_text_form_is_PEFTs_trainable_parameters_line_and_the_json_form_has_snake_case_keys()
    {
        var report = ParameterReport.Compute(BuiltInModels.TransformerBlock, 8, ["q_proj", "v_proj"]);
        Assert.StartsWith("trainable params: 8,192 || all params: ", report.ToText());
        using var json = JsonDocument.Parse(report.ToJson());
        Assert.Equal(8_192, json.RootElement.GetProperty("trainable_params").GetInt64());
        Assert.Equal(report.TotalParameters, json.RootElement.GetProperty("total_params").GetInt64());
        Assert.Equal(["q_proj", "v_proj"], json.RootElement.GetProperty("adapted_modules").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void Unknown_targets_and_models_are_reported()
    {
        Assert.Throws<LoraTargetException>(() => ParameterReport.Compute(BuiltInModels.Mlp, 4, ["fc1"]));
        Assert.Throws<UnknownModelException>(() => ParameterReport.Compute("resnet", 4, ["fc"]));
    }

    [Fact]
    public void Rank4_on_q_and_v_of_the_tiny_llama_trains_1792_parameters()
    {
        // q: 64 → 4 heads × 16, v: 64 → 2 kv heads × 16; r·(in + out) per layer = 4·128 + 4·96, two layers.
        var report = ParameterReport.Compute(BuiltInModels.Llama, 4, ["q_proj", "v_proj"]);

        Assert.Equal(1_792, report.TrainableParameters);
        Assert.Equal(4, report.AdaptedModules.Count);
        Assert.Contains("model.layers.1.self_attn.q_proj", report.AdaptedModules);
    }
}
