using Orchestrator.Trials.Configuration;

namespace Orchestrator.Sweeps.Tests;

/// <summary>A sweep's validation checks each distinct config once: the memo must answer exactly what the rules do, seed included.</summary>
public sealed class TrainingConfigProblemMemoTests
{
    public static TheoryData<long> Seeds() => [0, 1, 42, long.MaxValue, -1, long.MinValue];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Gives_the_problems_the_rules_give_whatever_the_seed(long seed)
    {
        var memo = new TrainingConfigProblemMemo();
        var broken = new TrainingConfig { Rank = 0, Epochs = 0, MaxSteps = 0 };
        // The seed-0 twin goes first, so a seed that breaks its own rule must not be answered from the twin.
        memo.Problems(broken);
        foreach (var config in new[] { new TrainingConfig(), broken })
        {
            var trial = config with { Seed = seed };
            Assert.Equal(Messages(TrainingOptions.Problems(trial)), Messages(memo.Problems(trial)));
        }
    }

    [Fact]
    public void Configs_that_differ_only_in_a_valid_seed_share_one_check()
    {
        var memo = new TrainingConfigProblemMemo();
        var first = memo.Problems(new TrainingConfig { Rank = 0, Seed = 7 });
        Assert.NotEmpty(first);
        Assert.Same(first, memo.Problems(new TrainingConfig { Rank = 0, Seed = 8 }));
        Assert.NotSame(first, memo.Problems(new TrainingConfig { Rank = 1, Seed = 8 }));
    }

    private static List<string> Messages(IEnumerable<TrainingConfigProblem> problems) => problems.Select(p => $"{p.Key}: {p.Message}").ToList();
}
