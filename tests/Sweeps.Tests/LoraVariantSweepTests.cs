using Orchestrator.Contracts.Trials;

namespace Orchestrator.Sweeps.Tests;

/// <summary>DoRA, PiSSA / OLoRA and LoRA+ are sweep axes under PEFT's own spellings.</summary>
public class LoraVariantSweepTests
{
    private const string Yaml = """
        name: variants
        task: { model: transformer-block, dataset: synthetic-regression }
        method: grid
        parameters:
          r: { values: [2, 8] }
          use_dora: { values: [false, true] }
          init_lora_weights: { values: [true, pissa, pissa_niter_4, olora] }
          loraplus_lr_ratio: { values: [0, 16] }
          max_steps: { value: 5 }
        """;

    [Fact]
    public void A_sweep_in_PEFTs_spellings_varies_DoRA_the_init_and_the_LoRA_plus_ratio()
    {
        var trials = SweepExpander.Expand(SweepFile.Parse(Yaml, "variants.yaml"));
        Assert.Equal(2 * 2 * 4 * 2, trials.Count);
        Assert.All(trials, t => Assert.Empty(t.Config.Problems()));
        Assert.Equal(["kaiming", "olora", "pissa", "pissa_niter_4"], trials.Select(t => t.Config.Init.ToString()).Distinct().Order(StringComparer.Ordinal));
        Assert.Contains(trials, t => t.Config.UseDora && t.Config.LoraPlusLrRatio == 16 && t.Config.Init == LoraInitMethod.PissaNiter(4));
        Assert.Equal(trials.Count, trials.Select(t => t.TrialId).Distinct().Count());
    }

    [Fact]
    public void A_pissa_niter_without_a_count_is_refused_at_its_line_naming_the_allowed_values()
    {
        var error = Assert.Throws<SweepValidationException>(() => SweepFile.Parse(Yaml.Replace("pissa_niter_4", "pissa_niter_x"), "variants.yaml"));
        Assert.Contains("variants.yaml:7:", error.Message);
        Assert.Contains("pissa_niter_K", error.Message);
    }
}
