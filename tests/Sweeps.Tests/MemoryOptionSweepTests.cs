using Orchestrator.Trials.Configuration;

namespace Orchestrator.Sweeps.Tests;

/// <summary>base_dtype, quantize and gradient_checkpointing in sweep files, with Hugging Face's spellings of them.</summary>
public sealed class MemoryOptionSweepTests
{
    private const string Head = """
        name: qlora
        task: { model: llama, dataset: text }
        metric: { name: test_loss, goal: minimize }
        parameters:
          rank: { value: 4 }

        """;

    [Fact]
    public void Hugging_face_flags_bf16_and_load_in_4bit_sweep_base_dtype_and_quantize_values()
    {
        var trials = SweepExpander.Expand(SweepFile.Parse(Head + """
              bf16: { value: true }
              load_in_4bit: { values: [true, false] }
              gradient_checkpointing: { value: true }
            """, "qlora.yaml"));

        Assert.Equal(2, trials.Count);
        Assert.All(trials, t => Assert.Equal((BaseDtype.Bf16, true), (t.Config.BaseDtype, t.Config.GradientCheckpointing)));
        Assert.Equal([QuantizeMode.Nf4, QuantizeMode.None], trials.Select(t => t.Config.Quantize));
    }

    [Fact]
    public void Bitsandbytes_quant_type_names_the_quantize_value_and_its_fp4_is_refused_by_name()
    {
        var trials = SweepExpander.Expand(SweepFile.Parse(Head + "  bnb_4bit_quant_type: { value: nf4 }\n", "qlora.yaml"));
        Assert.Equal(QuantizeMode.Nf4, Assert.Single(trials).Config.Quantize);

        var invalid = Assert.Throws<SweepValidationException>(() => SweepFile.Parse(Head + "  bnb_4bit_quant_type: { value: fp4 }\n", "qlora.yaml"));
        Assert.Contains(invalid.Problems, p => p.Message.Contains("'fp4'", StringComparison.Ordinal) && p.Message.Contains("none, nf4, int8", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unknown_base_dtype_is_refused_at_its_line_naming_the_allowed_types()
    {
        var invalid = Assert.Throws<SweepValidationException>(() => SweepFile.Parse(Head + "  base_dtype: { value: fp8 }\n", "qlora.yaml"));

        var problem = Assert.Single(invalid.Problems);
        Assert.Equal(6, problem.Line);
        Assert.Contains("fp32, bf16, fp16", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bitsandbytes_use_double_quant_sweeps_double_quant_on_nf4_and_is_refused_without_it()
    {
        var trials = SweepExpander.Expand(SweepFile.Parse(Head + """
              load_in_4bit: { value: true }
              bnb_4bit_use_double_quant: { values: [true, false] }
            """, "qlora.yaml"));
        Assert.Equal([true, false], trials.Select(t => t.Config.DoubleQuant));
        Assert.All(trials, t => Assert.Equal(QuantizeMode.Nf4, t.Config.Quantize));

        var invalid = Assert.Throws<SweepValidationException>(() => SweepFile.Parse(Head + "  double_quant: { value: true }\n", "qlora.yaml"));
        Assert.Contains(invalid.Problems, p => p.Message.Contains("double_quant quantises NF4's block scales, but quantize is none", StringComparison.Ordinal));
    }
}
