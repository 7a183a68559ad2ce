using Orchestrator.Contracts.Sweeps;
using Orchestrator.Grains.Journal;
using Orchestrator.Storage;
using Orchestrator.Sweeps;

namespace Orchestrator.Orchestration.Tests;

/// <summary>
/// One sweep-name rule: the journal's stream names and the artifact layout accept exactly the names <see cref="SweepName"/>
/// accepts (they used to disagree, so `my_sweep` passed the client and failed in the grain), and a sweep file's free-text
/// name is stored under a name that keeps it.
/// </summary>
public sealed class SweepNameRuleTests
{
    public static TheoryData<string, bool> Names => new()
    {
        { "mnist-rank", true },
        { "a", true },
        { "r8", true },
        { new string('a', 63), true },
        { new string('a', 64), false },
        { "my_sweep", false },
        { "a.b", false },
        { "-lead", false },
        { "trail-", false },
        { "Upper", false },
        { "a\n", false },
        { "a/b", false },
        { "", false },
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void The_sweep_file_the_journal_and_the_artifact_layout_agree_with_the_rule(string name, bool valid)
    {
        Assert.Equal(valid, SweepName.IsValid(name));
        Assert.Equal(valid, SweepName.Check(name) is null);
        Assert.Equal(valid, Accepts(() => JournalStreams.Sweep(name)));
        Assert.Equal(valid, Accepts(() => ArtifactPaths.Sweep(name)));
        // A sweep file may name itself in free text, as W&B's do: what the journal and the store see is its slug
        // (or the file's name), which always keeps the rule; a valid name is kept as written.
        var file = $$"""
            name: "{{name.Replace("\n", "\\n")}}"
            task: { model: mlp, dataset: mnist }
            metric: { name: test_accuracy, goal: maximize }
            """;
        if (!name.Any(char.IsLetterOrDigit))
        {
            Assert.Contains("has no letters or digits", Assert.Throws<SweepValidationException>(() => SweepFile.Parse(file, "names.yaml")).Message);
            return;
        }
        var spec = SweepFile.Parse(file, "names.yaml");
        Assert.True(SweepName.IsValid(spec.Name), spec.Name);
        if (valid) Assert.Equal(name, spec.Name);
        if (!valid) Assert.Contains(SweepName.Rule, SweepName.Check(name));
    }

    private static bool Accepts(Action action)
    {
        try
        {
            action();
            return true;
        }
        catch (Exception e) when (e is ArgumentException or SweepValidationException)
        {
            return false;
        }
    }
}
