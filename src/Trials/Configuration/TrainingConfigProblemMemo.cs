using System.Text.Json.Nodes;

namespace Orchestrator.Trials.Configuration;

/// <summary>
/// <see cref="TrainingOptions.Problems"/> over many configs (a sweep's trials), each distinct config checked once.
/// A sweep's trials often differ in their trainer seed alone (a `seed` parameter repeats one config), and of all the
/// rules only the seed option's own reads the seed: a config whose seed passes that rule has the problems of its
/// seed-0 twin. So the JSON of the option table's rules and the model folder look-ups are made once per distinct
/// config rather than once per trial. Configs compare as records (lists by reference: a miss, never a wrong answer).
/// </summary>
public sealed class TrainingConfigProblemMemo
{
    private static readonly TrainingOption Seed = TrainingOptions.Get("seed");
    private readonly Dictionary<TrainingConfig, IReadOnlyList<TrainingConfigProblem>> _bySeedless = [];

    /// <summary>The same list <see cref="TrainingOptions.Problems"/> gives <paramref name="config"/>.</summary>
    public IReadOnlyList<TrainingConfigProblem> Problems(TrainingConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (Seed.Check(JsonValue.Create(config.Seed)) is not null) return TrainingOptions.Problems(config);
        var seedless = config with { Seed = 0 };
        if (!_bySeedless.TryGetValue(seedless, out var problems)) _bySeedless[seedless] = problems = TrainingOptions.Problems(seedless);
        return problems;
    }
}
