
namespace Orchestrator.Reliability.Tests;

/// <summary>
/// A small MNIST sweep for fault tests: LoRA trials of <paramref name="steps"/> steps that checkpoint every
/// <paramref name="checkpointEvery"/>, so a fault lands mid-training and a resume point exists.
/// </summary>
public sealed record TestSweep(string Name, int Ranks = 4, int Steps = 2 * FaultCluster.ObservationLagSteps, int CheckpointEvery = 100, int Parallel = 3, int MaxFailures = 1)
{
    /// <summary>Extra `parameters:` entries, one per line (e.g. <c>grad_clip: { value: 0 }</c>).</summary>
    public IReadOnlyList<string> ExtraParameters { get; init; } = [];

    public string Lr { get; init; } = "{ value: 1.0e-3 }";

    /// <summary>The sweep's `pack` (null: not set, every trial alone).</summary>
    public string? Pack { get; init; }

    public string Yaml => new MnistTestSweep(Name)
    {
        Description = "reliability suite", Seed = 7, Parallel = Parallel, MaxFailures = MaxFailures, Pack = Pack,
        Rank = MnistTestSweep.RankValues(Ranks), Lr = Lr, MaxSteps = Steps, CheckpointEvery = CheckpointEvery, ExtraParameters = ExtraParameters,
    }.Yaml;

    public string WriteTo(string directory)
    {
        var path = Path.Combine(directory, Name + ".yaml");
        File.WriteAllText(path, Yaml);
        return path;
    }
}
