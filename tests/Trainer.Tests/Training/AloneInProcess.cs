namespace Orchestrator.Trainer.Tests.Training;

/// <summary>
/// Tests that measure the whole test process (its resident memory) run after every parallel test and alone: another
/// class training an encoder at the same time grows the RSS they measure (seen once: "RSS grew 24 MB").
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneInProcess
{
    public const string Name = "alone in the test process";
}
