namespace Orchestrator.Sweeps.Tests;

/// <summary>PEFT's modules_to_save in sweep files: one name or a list, checked by the option table at its line.</summary>
public sealed class ModulesToSaveSweepTests
{
    private const string Head = """
        name: head
        task: { model: llama, dataset: text }
        metric: { name: test_loss, goal: minimize }
        parameters:
          rank: { value: 4 }

        """;

    [Fact]
    public void One_name_or_a_list_of_names_trains_those_modules_beside_each_adapter()
    {
        var trials = SweepExpander.Expand(SweepFile.Parse(Head + "  modules_to_save: { values: [norm, [norm, lm_head]] }\n", "head.yaml"));

        Assert.Equal([["norm"], ["norm", "lm_head"]], trials.Select(t => t.Config.ModulesToSave!.ToArray()));
    }

    [Fact]
    public void On_a_half_precision_base_it_is_refused_at_its_line_saying_what_to_change()
    {
        var invalid = Assert.Throws<SweepValidationException>(() => SweepFile.Parse(Head + "  modules_to_save: { value: [norm] }\n  bf16: { value: true }\n", "head.yaml"));

        Assert.Contains(invalid.Problems, p => p.Message.Contains("use base_dtype fp32", StringComparison.Ordinal) && p.Line > 0);
    }
}
